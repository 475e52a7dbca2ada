// SPDX-License-Identifier: Apache-2.0
#include <tomato/core/logging_p.h>

namespace Tomato {
Q_LOGGING_CATEGORY(lcTransport, "tomato.transport", QtWarningMsg)
Q_LOGGING_CATEGORY(lcServer, "tomato.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcClient, "tomato.client", QtInfoMsg)
} // namespace Tomato
