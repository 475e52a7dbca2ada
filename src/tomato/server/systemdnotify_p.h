// SPDX-License-Identifier: Apache-2.0
#pragma once
// Tells systemd how a server's start and stop go (sd_notify(3)), for units with Type=notify
// (packaging/systemd, docs/DEPLOYMENT.md). Nothing happens unless the process was started
// with NOTIFY_SOCKET set, as systemd does for such units. libsystemd is optional at build
// time: without it, a process started with NOTIFY_SOCKET warns once that it cannot notify.
#include <QtCore/QString>

namespace Tomato {

class SystemdNotifier
{
public:
    // READY=1 and a STATUS= line: the server listens and, if it uses a registry, is
    // registered. Once per start.
    void ready(const QString &status);
    // STOPPING=1: the server leaves the registry and drains. After ready() only.
    void stopping(const QString &status);
    bool hasSentReady() const { return readySent; }

private:
    bool readySent = false;
};

} // namespace Tomato
