/* The pod sandbox ("pause") process: PID 1 of the container that holds a pod's network namespace, IP address,
 * hostname and resolver configuration while the pod's containers come and go. It does nothing but wait: it exits
 * at once on SIGTERM or SIGINT (so stopping the sandbox takes no grace period) and reaps any child that ends up
 * re-parented to it, so no zombies collect in the namespace. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static void handle(int sig, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(sig, &action, NULL) != 0) {
    perror("pause: sigaction");
    exit(1);
  }
}

int main(void) {
  if (getpid() != 1) fprintf(stderr, "pause: warning: not running as PID 1\n");
  handle(SIGTERM, on_stop);
  handle(SIGINT, on_stop);
  handle(SIGCHLD, on_child);
  for (;;) pause();
}
