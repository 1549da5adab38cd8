/* placeholder until the vision engine lands */
int ff_vision_linked(void);
int ff_vision_linked(void) { return 1; }
