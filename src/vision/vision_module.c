/* placeholder so the library is never empty */
int ff_vision_linked(void);
int ff_vision_linked(void) { return 1; }
