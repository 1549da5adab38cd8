/* placeholder so the library is never empty */
int ff_db_linked(void);
int ff_db_linked(void) { return 1; }
