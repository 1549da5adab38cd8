/* placeholder so the library is never empty */
int ff_http_linked(void);
int ff_http_linked(void) { return 1; }
