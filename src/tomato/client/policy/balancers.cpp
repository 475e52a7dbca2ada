#include <tomato/client/policy/balancers_p.h>
