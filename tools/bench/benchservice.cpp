// SPDX-License-Identifier: Apache-2.0
// Gives AUTOMOC a translation unit for the bench interface.
#include "benchservice.h"
