/* TCP layer: what the rest of the stack sees of it. */
#ifndef OASIS_TCP_LAYER_H
#define OASIS_TCP_LAYER_H

typedef struct oasis_stack oasis_stack;
typedef struct oasis_tcp_layer oasis_tcp_layer;

int oasis_tcp_init(oasis_stack *s);
void oasis_tcp_fini(oasis_stack *s);

#endif
