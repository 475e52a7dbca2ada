// SPDX-License-Identifier: Apache-2.0
// Gives AUTOMOC a translation unit for the test interfaces.
#include "testservice.h"
#include "asyncservice.h"
