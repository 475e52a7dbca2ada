// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcerror.h>

#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <atomic>
#include <memory>
#include <vector>

class QTimer;

namespace Tomato {

// A connection's place in its ConnectionLimits, given back when destroyed (on whatever
// thread the connection ends). Movable: it goes with the connection (through a hand-over to
// HTTP). Empty (false) when it was refused or moved from.
class ConnectionSlot
{
public:
    ConnectionSlot() = default;
    ConnectionSlot(ConnectionSlot &&other) noexcept = default;
    ConnectionSlot &operator=(ConnectionSlot &&other) noexcept;
    ~ConnectionSlot();
    explicit operator bool() const { return bool(m_shared); }

private:
    friend class ConnectionLimits;
    void release();
    std::shared_ptr<struct ConnectionLimitsShared> m_shared;
    QString m_host; // counted per host; empty: not
};

// The connections one server (or status port) holds, counted against max-connections and
// max-connections-per-host. Thread-safe: slots are taken on the accept thread and given back
// wherever the connection ends.
class ConnectionLimits
{
public:
    // `maxConnections` 0: no limit; `maxPerHost` 0: none per host.
    ConnectionLimits(int maxConnections, int maxPerHost);
    ~ConnectionLimits();

    // A slot for a new connection from `host` (an IP address; empty for a Unix socket peer),
    // to be held as long as the connection lives (through a hand-over to HTTP); empty, with
    // *why, when a limit is reached.
    ConnectionSlot admit(const QString &host, QString *why);

    int maxConnections() const { return m_max; }
    int maxPerHost() const { return m_maxPerHost; }
    int open() const;
    quint64 refused() const { return m_refused.load(std::memory_order_relaxed); }

private:
    const int m_max;
    const int m_maxPerHost;
    std::atomic<quint64> m_refused{0};
    std::shared_ptr<ConnectionLimitsShared> m_shared; // outlives us while slots are held
};

// The process's descriptor limit (RLIMIT_NOFILE), its soft value raised to the hard one the
// first time this is called, as servers commonly do. Thread-safe.
int descriptorLimit();
// max-connections when it is 0: the descriptor limit minus a quarter of it (at least 64),
// kept for outgoing calls, the registry, log and data files.
int derivedMaxConnections();

// The peer address of a connected socket ("10.0.0.5", "::1"), empty for a Unix socket.
QString peerHost(qintptr descriptor);

// How a refused connection is told: an Error frame or `503`, whichever its first bytes ask
// for (an RPC port that also answers HTTP); always `503` (an HTTP-only port); nothing (a TLS
// port: no plain text can reach its peer).
enum class Refusal { FrameOrHttp, Http, Silent };

// Tells the peer of a just-accepted descriptor that it is not held, then closes the
// descriptor; never blocks. With FrameOrHttp, an HTTP request that has arrived (looked at
// without reading it) gets `503`, anything else an Error frame with `code`.
void refuseConnection(qintptr descriptor, Refusal style, RpcError::Code code, const QString &why);

// Refuses connections on the accept thread. A FrameOrHttp refusal whose first bytes have
// not arrived yet waits for them a moment (at most FirstBytesWaitMs, at most MaxWaiting such
// connections at once: beyond, the Error frame goes at once), so that an HTTP client that
// has connected but not sent its request yet still gets its `503`.
class Refuser : public QObject
{
public:
    static constexpr int FirstBytesWaitMs = 200;
    static constexpr int MaxWaiting = 64;
    explicit Refuser(QObject *parent = nullptr);
    ~Refuser() override;
    void refuse(qintptr descriptor, Refusal style, RpcError::Code code, const QString &why);

private:
    struct Waiting;
    void sweep();
    std::vector<std::unique_ptr<Waiting>> m_waiting;
    QTimer *m_timer;
};

// A warning that may repeat at a high rate (every refused connection of a flood): logged at
// most once per interval, with how many were suppressed in between. Thread-safe.
class RateLimitedWarning
{
public:
    explicit RateLimitedWarning(int intervalMs = 10000) : m_intervalMs(intervalMs) { }
    // True when this occurrence should be logged; *suppressed: how many were not, since the last.
    bool shouldLog(quint64 *suppressed);

private:
    const int m_intervalMs;
    QMutex m_mutex;
    qint64 m_lastMs = -1;
    quint64 m_suppressed = 0;
};

} // namespace Tomato
