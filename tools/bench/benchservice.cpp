// Gives AUTOMOC a translation unit for the bench interface.
#include "benchservice.h"
