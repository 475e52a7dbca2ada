// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/clientsession_p.h>
#include <tomato/client/invokerstats.h>
#include <tomato/client/policy/circuitbreaker_p.h>
#include <tomato/client/policy/loadbalancer_p.h>
#include <tomato/registry/instanceinfo.h>
#include <tomato/registry/registry.h>

#include <QtCore/QMutex>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace Tomato {

// What every invoker of a client shares (from the client's RpcConfig).
struct InvokerSettings
{
    CircuitBreaker::Settings circuit;
    std::chrono::milliseconds backoffMin{100};
    std::chrono::milliseconds backoffMax{10000};
    std::chrono::milliseconds warmup{30000};
    std::chrono::milliseconds drainingFor{10000}; // out of rotation after a ShuttingDown answer
    std::function<std::chrono::steady_clock::time_point()> now = &std::chrono::steady_clock::now;
    std::function<qint64()> wallClockMs; // ms since the epoch, for warm-up; default: the system's
};

// One instance of a service as a cluster client sees it (the original's RpcInvoker): its
// connections (connections-per-instance, made on the first call, re-made on the first call
// after a loss), its circuit breaker, its back-off after failed connects, whether it is
// draining (it answered ShuttingDown) or disabled (an override), its weight now (registered
// or overridden, ramped up over warm-up), and its statistics.
//
// Thread-safe: calls are placed and ended on any thread. Shared by the cluster's list and by
// each call in flight: an invoker removed from the list takes no new call, its calls finish
// within their deadlines, and when the last one ends its connections close (`release` runs;
// it never blocks).
class Invoker final : public Candidate
{
public:
    using Clock = std::chrono::steady_clock;
    using Release = std::function<void(const std::vector<std::shared_ptr<ClientSession>> &)>;

    Invoker(InstanceInfo instance, std::vector<std::shared_ptr<ClientSession>> sessions,
            std::shared_ptr<const InvokerSettings> settings, Release release);
    ~Invoker() override;

    const InstanceInfo &instance() const { return m_instance; }
    const QString &key() const override { return m_key; }
    int effectiveWeight() const override;
    int inFlight() const override { return m_inFlight.load(std::memory_order_relaxed); }

    // Whether a call may be placed here now (not draining, not disabled, not backing off, the
    // circuit would let it through).
    bool isUsable() const;
    // Places a call: takes a circuit place (a trial when half-open); false when the circuit
    // refuses. On true, the session to send on; ended() must follow.
    std::shared_ptr<ClientSession> begin();
    // How the call placed by begin() ended (error null: success). `judge`: whether the ending
    // says something about the instance (the breaker, the back-off) — not for a call that was
    // never sent, nor for a Timeout of an attempt cut short so that another could follow.
    enum class Judge { Yes, Neutral, NotSent };
    void ended(const RpcError *error, std::chrono::microseconds latency, Judge judge = Judge::Yes);

    void setOverride(const InstanceOverride &o);
    // The connection remote-signal subscriptions to this instance use.
    const std::shared_ptr<ClientSession> &signalSession() const { return m_sessions.front(); }
    InvokerStats stats() const;

private:
    bool inBackoff(Clock::time_point now) const;
    bool isDraining(Clock::time_point now) const;

    const InstanceInfo m_instance;
    const QString m_key;
    const std::vector<std::shared_ptr<ClientSession>> m_sessions;
    const std::shared_ptr<const InvokerSettings> m_settings;
    const Release m_release;
    CircuitBreaker m_breaker;
    std::atomic<unsigned> m_nextSession{0};
    std::atomic<int> m_inFlight{0};
    std::atomic<int> m_overrideWeight{0}; // 0: none
    std::atomic<bool> m_disabled{false};
    std::atomic<qint64> m_backoffUntil{0};  // steady ticks; 0: none
    std::atomic<qint64> m_drainingUntil{0}; // steady ticks; 0: none
    std::atomic<int> m_connectFailures{0};  // in a row

    // Statistics: counters are atomics; latencies a lock-free ring of the last 1024.
    static constexpr int LatencySlots = 1024;
    std::atomic<quint64> m_calls{0};
    std::atomic<quint64> m_failures{0};
    std::atomic<quint64> m_latencyNext{0};
    std::array<std::atomic<quint32>, LatencySlots> m_latencies{};
    mutable QMutex m_errorMutex; // failures only
    QMap<int, quint64> m_errorsByCode;
    QString m_lastError;
    QDateTime m_lastErrorAt;
};

} // namespace Tomato
