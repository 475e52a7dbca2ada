// SPDX-License-Identifier: Apache-2.0
// Gives AUTOMOC a translation unit for the sample interfaces (their meta objects live here).
#include "demoservice.h"
#include "echoservice.h"
