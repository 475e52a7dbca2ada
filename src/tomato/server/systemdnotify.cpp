// SPDX-License-Identifier: Apache-2.0
#include <tomato/server/systemdnotify_p.h>

#include <tomato/core/logging_p.h>

#include <QtCore/QByteArray>
#include <cstdlib>
#ifdef TOMATO_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace Tomato {

namespace {
bool notify(const QByteArray &state)
{
    if (!std::getenv("NOTIFY_SOCKET"))
        return false;
#ifdef TOMATO_HAVE_SYSTEMD
    const int rc = sd_notify(0, state.constData());
    if (rc < 0)
        qCWarning(lcServer).noquote() << "cannot notify systemd:" << qt_error_string(-rc);
    return rc > 0;
#else
    Q_UNUSED(state);
    static bool warned = false;
    if (!warned) {
        warned = true;
        qCWarning(lcServer).noquote() << "NOTIFY_SOCKET is set, but Tomato RPC was built without libsystemd:"
                                      << "systemd is not told that the server is ready (use Type=simple)";
    }
    return false;
#endif
}

QByteArray statusLine(const QString &status)
{
    QString line = status;
    line.replace(QLatin1Char('\n'), QLatin1Char(' '));
    return "STATUS=" + line.toUtf8();
}
} // namespace

void SystemdNotifier::ready(const QString &status)
{
    if (readySent)
        return;
    readySent = true;
    notify("READY=1\n" + statusLine(status));
}

void SystemdNotifier::stopping(const QString &status)
{
    if (!readySent)
        return;
    readySent = false;
    notify("STOPPING=1\n" + statusLine(status));
}

} // namespace Tomato
