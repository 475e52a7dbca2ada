// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/connectionlimits_p.h>

#include <tomato/wire/message_p.h>

#include <QtCore/QDateTime>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QSocketNotifier>
#include <QtCore/QTimer>
#include <QtNetwork/QHostAddress>

#include <mutex>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Tomato {

// The counts, shared with the slots: a slot given back after its limits object is gone (a
// connection outliving a stopped server's bookkeeping) still finds them.
struct ConnectionLimitsShared
{
    QMutex mutex;
    int open = 0;
    QHash<QString, int> byHost;
};

ConnectionSlot &ConnectionSlot::operator=(ConnectionSlot &&other) noexcept
{
    if (this != &other) {
        release();
        m_shared = std::move(other.m_shared);
        m_host = std::move(other.m_host);
    }
    return *this;
}

ConnectionSlot::~ConnectionSlot()
{
    release();
}

void ConnectionSlot::release()
{
    if (!m_shared)
        return;
    {
        QMutexLocker lock(&m_shared->mutex);
        --m_shared->open;
        if (!m_host.isEmpty()) {
            auto it = m_shared->byHost.find(m_host);
            if (it != m_shared->byHost.end() && --it.value() <= 0)
                m_shared->byHost.erase(it);
        }
    }
    m_shared.reset();
}

ConnectionLimits::ConnectionLimits(int maxConnections, int maxPerHost)
    : m_max(maxConnections), m_maxPerHost(maxPerHost), m_shared(std::make_shared<ConnectionLimitsShared>())
{
}

ConnectionLimits::~ConnectionLimits() = default;

int ConnectionLimits::open() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_shared->open;
}

ConnectionSlot ConnectionLimits::admit(const QString &host, QString *why)
{
    const bool perHost = m_maxPerHost > 0 && !host.isEmpty();
    QMutexLocker lock(&m_shared->mutex);
    if (m_max > 0 && m_shared->open >= m_max) {
        m_refused.fetch_add(1, std::memory_order_relaxed);
        *why = QStringLiteral("the server holds its maximum of %1 connections (max-connections)").arg(m_max);
        return {};
    }
    if (perHost && m_shared->byHost.value(host) >= m_maxPerHost) {
        m_refused.fetch_add(1, std::memory_order_relaxed);
        *why = QStringLiteral("the server holds its maximum of %1 connections from %2 (max-connections-per-host)")
                   .arg(m_maxPerHost).arg(host);
        return {};
    }
    ++m_shared->open;
    ConnectionSlot slot;
    slot.m_shared = m_shared;
    if (perHost) {
        ++m_shared->byHost[host];
        slot.m_host = host;
    }
    return slot;
}

int descriptorLimit()
{
    static const int limit = [] {
        rlimit r{};
        if (::getrlimit(RLIMIT_NOFILE, &r) != 0)
            return 1024;
        if (r.rlim_cur < r.rlim_max) {
            rlimit raised = r;
            raised.rlim_cur = r.rlim_max;
            if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
                r = raised;
        }
        // Descriptor numbers are ints; an "unlimited" limit is bounded by the kernel anyway.
        return int(qMin<rlim_t>(r.rlim_cur, rlim_t(1) << 30));
    }();
    return limit;
}

int derivedMaxConnections()
{
    const int limit = descriptorLimit();
    return qMax(1, limit - qMax(64, limit / 4));
}

QString peerHost(qintptr descriptor)
{
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(int(descriptor), reinterpret_cast<sockaddr *>(&addr), &len) != 0)
        return {};
    if (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)
        return {};
    QHostAddress a(reinterpret_cast<const sockaddr *>(&addr));
    bool mapped = false;
    const quint32 v4 = a.toIPv4Address(&mapped); // ::ffff:10.0.0.5 is 10.0.0.5
    return mapped ? QHostAddress(v4).toString() : a.toString();
}

namespace {
bool firstByteIsHttp(int fd, bool *arrived)
{
    char first = 0;
    *arrived = ::recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
    return *arrived && first >= 'A' && first <= 'Z';
}

void answerAndClose(int fd, bool http, RpcError::Code code, const QString &why)
{
    QByteArray out;
    if (http) {
        const QByteArray body = why.toUtf8() + '\n';
        out = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Connection: close\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    } else {
        out = Message::errorFrame(code, why);
    }
    // A fresh socket's send buffer takes this at once; what it does not take is dropped.
    (void)::send(fd, out.constData(), size_t(out.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_WR);
    // Unread bytes at close would reset the connection and could destroy the answer on its
    // way: drop what has arrived (what comes later may still reset it; the peer has had its
    // answer by then, or reads a reset: both say "not held").
    char sink[4096];
    for (int i = 0; i < 16 && ::recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) { }
    ::close(fd);
}
} // namespace

void refuseConnection(qintptr descriptor, Refusal style, RpcError::Code code, const QString &why)
{
    const int fd = int(descriptor);
    if (style == Refusal::Silent) {
        ::close(fd);
        return;
    }
    bool arrived = false;
    answerAndClose(fd, style == Refusal::Http || firstByteIsHttp(fd, &arrived), code, why);
}

struct Refuser::Waiting
{
    int fd;
    RpcError::Code code;
    QString why;
    QDeadlineTimer deadline;
    std::unique_ptr<QSocketNotifier> notifier;
};

Refuser::Refuser(QObject *parent) : QObject(parent), m_timer(new QTimer(this))
{
    m_timer->setInterval(FirstBytesWaitMs / 4);
    connect(m_timer, &QTimer::timeout, this, &Refuser::sweep);
}

Refuser::~Refuser()
{
    for (const auto &w : m_waiting) {
        w->notifier.reset();
        ::close(w->fd);
    }
}

void Refuser::refuse(qintptr descriptor, Refusal style, RpcError::Code code, const QString &why)
{
    bool arrived = false;
    const bool http = style == Refusal::FrameOrHttp && firstByteIsHttp(int(descriptor), &arrived);
    if (style != Refusal::FrameOrHttp || arrived || int(m_waiting.size()) >= MaxWaiting) {
        refuseConnection(descriptor, http ? Refusal::Http : style, code, why);
        return;
    }
    auto w = std::make_unique<Waiting>(Waiting{int(descriptor), code, why, QDeadlineTimer(FirstBytesWaitMs), nullptr});
    w->notifier = std::make_unique<QSocketNotifier>(int(descriptor), QSocketNotifier::Read);
    Waiting *raw = w.get();
    connect(w->notifier.get(), &QSocketNotifier::activated, this, [this, raw] {
        raw->deadline = QDeadlineTimer(0); // it spoke (or left): answer it in this sweep
        sweep();
    });
    m_waiting.push_back(std::move(w));
    if (!m_timer->isActive())
        m_timer->start();
}

void Refuser::sweep()
{
    for (auto it = m_waiting.begin(); it != m_waiting.end();) {
        Waiting &w = **it;
        if (!w.deadline.hasExpired()) {
            ++it;
            continue;
        }
        w.notifier.reset();
        bool arrived = false;
        answerAndClose(w.fd, firstByteIsHttp(w.fd, &arrived), w.code, w.why);
        it = m_waiting.erase(it);
    }
    if (m_waiting.empty())
        m_timer->stop();
}

bool RateLimitedWarning::shouldLog(quint64 *suppressed)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QMutexLocker lock(&m_mutex);
    if (m_lastMs >= 0 && now - m_lastMs < m_intervalMs) {
        ++m_suppressed;
        return false;
    }
    m_lastMs = now;
    *suppressed = std::exchange(m_suppressed, 0);
    return true;
}

} // namespace Tomato
