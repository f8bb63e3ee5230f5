/* aglm-host --ctl SOCKET COMMAND...: a client of the admin socket. It sends the words as one
 * command line (quoting those that need it), prints the reply, final OK or ERR line included,
 * and exits 0 on OK, 1 on ERR, 2 on a usage or connection error. */
#ifndef AGLM_HOST_CTL_H
#define AGLM_HOST_CTL_H

extern const char host_ctl_usage[];

/* argv: SOCKET COMMAND [ARG...] (what follows --ctl). Returns the exit status. */
int host_ctl_main(int argc, char **argv);

#endif
