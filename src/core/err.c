#include "core/err.h"

static const struct {
    const char *name;
    const char *text;
} ff_errs[FF_ERR_COUNT] = {
    [FF_OK] = {"OK", "success"},
    [FF_ENOMEM] = {"ENOMEM", "out of memory"},
    [FF_EINVAL] = {"EINVAL", "invalid input"},
    [FF_ENOTFOUND] = {"ENOTFOUND", "not found"},
    [FF_ECONFLICT] = {"ECONFLICT", "conflict"},
    [FF_EAUTH] = {"EAUTH", "authentication required"},
    [FF_EFORBIDDEN] = {"EFORBIDDEN", "forbidden"},
    [FF_EDB] = {"EDB", "storage error"},
    [FF_EUPSTREAM] = {"EUPSTREAM", "upstream service error"},
    [FF_ETIMEOUT] = {"ETIMEOUT", "timed out"},
    [FF_ETOOBIG] = {"ETOOBIG", "too large"},
    [FF_EUNSUPPORTED] = {"EUNSUPPORTED", "unsupported"},
    [FF_EIO] = {"EIO", "input/output error"},
    [FF_ECORRUPT] = {"ECORRUPT", "corrupt or truncated data"},
    [FF_EINTERNAL] = {"EINTERNAL", "internal error"},
};

const char *ff_err_name(enum ff_err e)
{
    if ((unsigned)e >= FF_ERR_COUNT)
        return "EUNKNOWN";
    return ff_errs[e].name;
}

const char *ff_err_str(enum ff_err e)
{
    if ((unsigned)e >= FF_ERR_COUNT)
        return "unknown error";
    return ff_errs[e].text;
}
