// Linux's epoll, which the Glibc module does not export: the connections' event loop waits on it.
#include <sys/epoll.h>
