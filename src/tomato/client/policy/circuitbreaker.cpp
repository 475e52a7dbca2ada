#include <tomato/client/policy/circuitbreaker_p.h>

// PLACEHOLDER: being written.
