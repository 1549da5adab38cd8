// Writes webhook signature vectors made by Stripe's official SDK
// (stripe.webhooks.generateTestHeaderString) as JSON lines:
// {"payload", "secret", "header", "timestamp", "valid"} for the C verifier test.
'use strict';
const Stripe = require('stripe');
const stripe = new Stripe('sk_test_dummy');
const now = Math.floor(Date.now() / 1000);
const payloads = [
  JSON.stringify({id: 'evt_1', object: 'event', type: 'payment_intent.succeeded',
                  data: {object: {id: 'pi_1', amount: 1999, currency: 'eur'}}}),
  '{}',
  JSON.stringify({id: 'evt_2', text: 'unicode: \u00e9\u4e2d\ud83d\ude00', nl: 'a\nb'}, null, 2),
];
const secrets = ['whsec_test_secret', 'whsec_' + 'x'.repeat(40)];
for (const payload of payloads) {
  for (const secret of secrets) {
    for (const [dt, valid] of [[0, true], [-200, true], [-400, false], [400, false]]) {
      const timestamp = now + dt;
      const header = stripe.webhooks.generateTestHeaderString({payload, secret, timestamp});
      // the SDK itself is the oracle: ask it whether it accepts the header now
      let sdkValid = true;
      try {
        stripe.webhooks.constructEvent(payload, header, secret, 300);
      } catch (e) {
        sdkValid = false;
      }
      // framefit is stricter in one place: the SDK accepts any timestamp from the
      // future (it checks only the age), framefit also refuses t > now + 300 s.
      if (sdkValid !== (valid || dt > 0)) throw new Error(`SDK verdict ${sdkValid} at dt=${dt}`);
      process.stdout.write(JSON.stringify({payload, secret, header, timestamp, now, valid}) + '\n');
      // a wrong secret never verifies
      process.stdout.write(JSON.stringify({payload, secret: secret + 'x', header, timestamp, now,
                                           valid: false}) + '\n');
    }
  }
}
