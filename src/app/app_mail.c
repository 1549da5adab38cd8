/* app_mail.c - the email service's place in the app (see mail/mail.h). */
#include "app/app.h"
#include "mail/mail.h"

enum ff_err app_mail_open(struct app *a, char *why, size_t len)
{
    if (a->mail)
        return FF_OK;
    return mail_new(a->cfg, a->db, a->secret, a->public_url, &a->mail, why, len);
}

void app_mail_close(struct app *a)
{
    mail_free(a->mail);
    a->mail = NULL;
}
