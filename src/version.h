#ifndef VERSION_H
#define VERSION_H
#ifndef CPA_VERSION
#define CPA_VERSION "0.12.0"
#endif
#endif
