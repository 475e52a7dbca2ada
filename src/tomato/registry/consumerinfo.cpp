#include <tomato/registry/consumerinfo.h>

// PLACEHOLDER: being written.
