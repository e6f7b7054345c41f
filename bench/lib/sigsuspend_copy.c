/* Preloaded into weighin under valgrind by bench/phases/instructions.py.
 *
 * Swift's async main on Linux ends in libdispatch's _dispatch_sig_thread, which calls sigsuspend() with a signal
 * mask in read-only memory; valgrind 3.19 (Debian 12) writes to the mask it is given and dies of the SIGSEGV
 * ("VALGRIND INTERNAL ERROR"). This sigsuspend hands the kernel a copy on the stack instead: the same call. */
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
