// zlib's deflate, for gzip forms of the web app's files (Debian: zlib1g-dev).
#include <zlib.h>
