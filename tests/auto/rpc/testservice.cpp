// Gives AUTOMOC a translation unit for the test interfaces.
#include "testservice.h"
