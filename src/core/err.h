/* err.h - the one error enum of framefit (after curl's CURLcode).
 *
 * Fallible functions return enum ff_err and hand results back through out
 * parameters. http/problem.c is the only place that maps these to HTTP. */
#ifndef FF_CORE_ERR_H
#define FF_CORE_ERR_H

#define FF_MUST_CHECK __attribute__((warn_unused_result))

enum ff_err {
    FF_OK = 0,
    FF_ENOMEM,      /* allocation failed */
    FF_EINVAL,      /* bad input (caller's fault) */
    FF_ENOTFOUND,   /* no such thing */
    FF_ECONFLICT,   /* state conflict (duplicate, version mismatch) */
    FF_EAUTH,       /* not authenticated */
    FF_EFORBIDDEN,  /* authenticated, not allowed */
    FF_EDB,         /* storage failed */
    FF_EUPSTREAM,   /* an outside service failed */
    FF_ETIMEOUT,    /* something took too long */
    FF_ETOOBIG,     /* over a configured size limit */
    FF_EUNSUPPORTED,/* a format or feature we do not handle */
    FF_EIO,         /* file or socket I/O failed */
    FF_ECORRUPT,    /* data is truncated or malformed (files, models) */
    FF_EINTERNAL,   /* a bug or an impossible state */
    FF_ERR_COUNT
};

/* A short stable name such as "EINVAL"; never NULL. */
const char *ff_err_name(enum ff_err e);
/* A human sentence fragment such as "invalid input"; never NULL. */
const char *ff_err_str(enum ff_err e);

#endif
