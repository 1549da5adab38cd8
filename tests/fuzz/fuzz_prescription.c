/* fuzz_prescription.c - prescription validation on arbitrary JSON text.
 * Property: no crash or leak; a valid answer has no errors, an invalid one
 * at least one with a non-empty field name. */
#include <stddef.h>
#include <stdint.h>

#include "orders/orders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct orders_rx_err errs[4];
    int n = -1;
    enum ff_err e = orders_rx_check_text((const char *)data, size, errs, 4, &n);
    if (e == FF_OK && n != 0)
        __builtin_trap();
    if (e == FF_EINVAL && (n < 1 || !errs[0].field[0]))
        __builtin_trap();
    return 0;
}
