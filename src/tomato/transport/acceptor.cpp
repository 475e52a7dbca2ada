// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/acceptor_p.h>

#include <tomato/core/logging_p.h>

#include <QtCore/QPointer>
#include <QtCore/QSocketNotifier>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Tomato {

namespace {

int openSpare()
{
    return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

bool isExhaustion(int error)
{
    return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

// Errors of the connection being accepted, not of the listening socket: Linux passes the
// pending network errors of a new connection on to accept(2), which is to try again.
bool isTransient(int error)
{
    switch (error) {
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
#ifdef ENONET
    case ENONET:
#endif
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

// What to do about an exhaustion, for the warning.
QString adviceFor(int error)
{
    switch (error) {
    case EMFILE:
        return QStringLiteral("raise the descriptor limit (ulimit -n) or lower max-connections");
    case ENFILE:
        return QStringLiteral("the whole system is out of descriptors: raise fs.file-max or lower max-connections");
    default:
        return QStringLiteral("the system is short of memory");
    }
}

} // namespace

Acceptor::Acceptor(Handler onAccept, QObject *parent)
    : QObject(parent), m_onAccept(std::move(onAccept))
{
    m_resumeTimer.setSingleShot(true);
    connect(&m_resumeTimer, &QTimer::timeout, this, &Acceptor::resume);
    m_warningTimer.setSingleShot(true);
    connect(&m_warningTimer, &QTimer::timeout, this, [this] { warnRefusals(true); });
}

Acceptor::~Acceptor()
{
    close();
}

void Acceptor::start(int descriptor, const QString &description)
{
    close();
    m_fd = descriptor;
    m_description = description;
    m_backOff = FirstBackOff;
    // Taken while descriptors are plentiful, so that there is one to give back when they are not.
    m_spare = openSpare();
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &Acceptor::acceptPending);
}

void Acceptor::close()
{
    m_resumeTimer.stop();
    delete m_notifier; // before the descriptor it watches goes
    m_notifier = nullptr;
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    if (m_spare >= 0)
        ::close(m_spare);
    m_spare = -1;
    // What was refused since the last warning is still worth saying.
    if (m_warningTimer.isActive()) {
        m_warningTimer.stop();
        warnRefusals(true);
    }
}

void Acceptor::acceptPending()
{
    const QPointer<Acceptor> alive(this); // the handler may close or delete its listener
    for (int i = 0; i < MaxAcceptsPerWakeUp && alive && m_fd >= 0; ++i) {
        const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            m_backOff = FirstBackOff;
            m_onAccept(fd);
            continue;
        }
        const int error = errno;
        if (error == EAGAIN || error == EWOULDBLOCK)
            return;
        if (isTransient(error))
            continue;
        if (isExhaustion(error))
            return onExhausted(error);
        qCWarning(lcTransport).noquote() << "cannot accept on" << m_description << "any more:"
                                         << qt_error_string(error);
        m_notifier->setEnabled(false); // the socket is broken: no more wake-ups for it
        return;
    }
}

void Acceptor::onExhausted(int error)
{
    m_exhaustions.fetch_add(1, std::memory_order_relaxed);
    // Make room for one waiting connection and end it at once: its peer sees the connection
    // close now instead of waiting in the backlog for a descriptor that may not come.
    if (m_spare >= 0) {
        ::close(m_spare);
        m_spare = -1;
    }
    const int refused = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (refused >= 0)
        ::close(refused);
    m_spare = openSpare(); // may fail if another thread took the slot first: resume() retries
    noteRefusal(error, refused >= 0);

    // The level-triggered notifier would wake the thread again at once, for ever: stay quiet
    // for a while, longer each time in a row that descriptors are short.
    m_notifier->setEnabled(false);
    m_resumeTimer.start(m_backOff);
    m_backOff = std::min(m_backOff * 2, MaxBackOff);
}

void Acceptor::resume()
{
    if (m_fd < 0)
        return;
    if (m_spare < 0)
        m_spare = openSpare();
    m_notifier->setEnabled(true);
}

void Acceptor::noteRefusal(int error, bool refused)
{
    m_lastError = error;
    ++m_unreportedEvents;
    if (refused)
        ++m_unreportedRefused;
    if (m_warningTimer.isActive())
        return; // the next line sums this up
    const auto sinceLast = std::chrono::steady_clock::now() - m_lastWarning;
    if (!m_warnedYet || sinceLast >= WarningInterval)
        return warnRefusals(false);
    m_warningTimer.start(std::chrono::duration_cast<std::chrono::milliseconds>(WarningInterval - sinceLast));
}

// One line for the start of a shortage, then (`summary`) at most one for every interval after it.
void Acceptor::warnRefusals(bool summary)
{
    if (m_unreportedEvents == 0)
        return;
    const auto now = std::chrono::steady_clock::now();
    const QString what = m_lastError == EMFILE || m_lastError == ENFILE ? QStringLiteral("out of descriptors")
                                                                        : QStringLiteral("out of memory");
    const QString happened = summary
        ? QStringLiteral("refused %1 connections in the last %2 s")
              .arg(m_unreportedRefused)
              .arg(qMax<qint64>(1, std::chrono::duration_cast<std::chrono::seconds>(now - m_lastWarning).count()))
        : QStringLiteral("refusing connections until there is room again");
    qCWarning(lcTransport).noquote() << QStringLiteral("%1 (%2) accepting on %3: %4; %5")
                                            .arg(what, qt_error_string(m_lastError), m_description, happened,
                                                 adviceFor(m_lastError));
    m_warnedYet = true;
    m_lastWarning = now;
    m_unreportedEvents = 0;
    m_unreportedRefused = 0;
}

} // namespace Tomato
