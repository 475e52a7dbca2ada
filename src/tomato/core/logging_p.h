// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QLoggingCategory>

namespace Tomato {
Q_DECLARE_LOGGING_CATEGORY(lcTransport)
Q_DECLARE_LOGGING_CATEGORY(lcServer)
Q_DECLARE_LOGGING_CATEGORY(lcClient)
} // namespace Tomato
