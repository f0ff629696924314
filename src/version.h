#ifndef VERSION_H
#define VERSION_H
#ifndef CPA_VERSION
#define CPA_VERSION "0.1.0"
#endif
#endif
