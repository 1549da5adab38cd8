/* fuzz_catalog_body.c - validation of catalog product bodies (create and
 * update) after JSON parsing; no database. Checks: no crash, no leak, and a
 * body that validates yields a product whose JSON validates again. */
#include <stdint.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "core/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!body)
        return 0;
    struct cat_product *p = ff_calloc(1, sizeof *p);
    json_t *errs = json_array();
    if (p && errs) {
        for (int create = 0; create < 2; create++) {
            json_array_clear(errs);
            memset(p, 0, sizeof *p);
            cat__from_json(body, create, p, errs);
            if (create && json_array_size(errs) == 0) {
                json_t *out = cat__to_json(p);
                /* output minus read-only fields must validate as input */
                const char *ro[] = {"id", "version", "created_at", "updated_at", "in_stock",
                                    "price"};
                for (size_t i = 0; out && i < sizeof ro / sizeof ro[0]; i++)
                    json_object_del(out, ro[i]);
                json_t *vs = json_object_get(out, "variants");
                size_t i;
                json_t *v;
                json_array_foreach(vs, i, v) json_object_del(v, "id");
                json_array_clear(errs);
                memset(p, 0, sizeof *p);
                cat__from_json(out, true, p, errs);
                if (json_array_size(errs))
                    __builtin_trap();
                json_decref(out);
            }
        }
    }
    json_decref(errs);
    ff_free(p);
    json_decref(body);
    return 0;
}
