/* placeholder so the library is never empty */
int ff_catalog_linked(void);
int ff_catalog_linked(void) { return 1; }
