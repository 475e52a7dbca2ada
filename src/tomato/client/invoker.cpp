// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/invoker_p.h>

#include <QtCore/QRandomGenerator>
#include <algorithm>

namespace Tomato {

namespace {
qint64 ticks(std::chrono::steady_clock::time_point t)
{
    return qint64(t.time_since_epoch().count());
}
} // namespace

Invoker::Invoker(InstanceInfo instance, std::vector<std::shared_ptr<ClientSession>> sessions,
                 std::shared_ptr<const InvokerSettings> settings, Release release)
    : m_instance(std::move(instance)),
      m_key(m_instance.address()),
      m_sessions(std::move(sessions)),
      m_settings(std::move(settings)),
      m_release(std::move(release)),
      m_breaker(m_settings->circuit, m_settings->now)
{
    Q_ASSERT(!m_sessions.empty());
}

Invoker::~Invoker()
{
    if (m_release)
        m_release(m_sessions);
}

// The registered weight, or the override's, scaled by uptime / warm-up while the instance is
// young (as Dubbo does): at least 1, so a cold instance still gets the odd call.
int Invoker::effectiveWeight() const
{
    const int overridden = m_overrideWeight.load(std::memory_order_relaxed);
    int weight = overridden > 0 ? overridden : m_instance.weight();
    const qint64 warmupMs = m_settings->warmup.count();
    if (warmupMs > 0 && m_instance.startTime() > 0) {
        const qint64 now = m_settings->wallClockMs ? m_settings->wallClockMs() : QDateTime::currentMSecsSinceEpoch();
        const qint64 uptime = now - m_instance.startTime();
        if (uptime >= 0 && uptime < warmupMs)
            weight = int(qint64(weight) * uptime / warmupMs);
    }
    return std::max(1, weight);
}

bool Invoker::inBackoff(Clock::time_point now) const
{
    const qint64 until = m_backoffUntil.load(std::memory_order_relaxed);
    return until != 0 && ticks(now) < until;
}

bool Invoker::isDraining(Clock::time_point now) const
{
    const qint64 until = m_drainingUntil.load(std::memory_order_relaxed);
    return until != 0 && ticks(now) < until;
}

bool Invoker::isUsable() const
{
    if (m_disabled.load(std::memory_order_relaxed))
        return false;
    const auto now = m_settings->now();
    return !inBackoff(now) && !isDraining(now) && m_breaker.wouldAllow();
}

std::shared_ptr<ClientSession> Invoker::begin()
{
    if (!m_breaker.allow())
        return nullptr;
    m_inFlight.fetch_add(1, std::memory_order_relaxed);
    const unsigned i = m_nextSession.fetch_add(1, std::memory_order_relaxed);
    return m_sessions[i % m_sessions.size()];
}

void Invoker::ended(const RpcError *error, std::chrono::microseconds latency, Judge judge)
{
    m_inFlight.fetch_sub(1, std::memory_order_relaxed);
    m_calls.fetch_add(1, std::memory_order_relaxed);
    const RpcError::Code code = error ? error->code() : RpcError::Ok;
    if (judge != Judge::Yes || code == RpcError::Cancelled || code == RpcError::ClientClosed) {
        m_breaker.release(); // says nothing about the instance: a trial place comes back
    } else {
        m_breaker.record(CircuitBreaker::countsAgainstInstance(code));
    }
    if (!error) {
        m_connectFailures.store(0, std::memory_order_relaxed);
        const quint64 slot = m_latencyNext.fetch_add(1, std::memory_order_relaxed) % LatencySlots;
        m_latencies[slot].store(quint32(std::min<qint64>(latency.count(), 0xffffffffLL)), std::memory_order_relaxed);
        return;
    }
    if (code == RpcError::Cancelled || code == RpcError::ClientClosed)
        return;
    m_failures.fetch_add(1, std::memory_order_relaxed);
    const auto now = m_settings->now();
    if (judge == Judge::Yes && code == RpcError::ConnectFailed && !inBackoff(now)) {
        // Capped exponential back-off with +-20 % jitter, so that many clients of a restarted
        // instance do not all come back in the same millisecond. Once per failed connect: the
        // other calls that were waiting for the same connect end inside the back-off it set.
        const int failures = std::min(m_connectFailures.fetch_add(1, std::memory_order_relaxed) + 1, 30);
        const double base = std::min(double(m_settings->backoffMin.count()) * double(1LL << std::min(failures - 1, 20)),
                                     double(m_settings->backoffMax.count()));
        const double jittered = base * (0.8 + 0.4 * QRandomGenerator::global()->generateDouble());
        const auto wait = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(jittered));
        m_backoffUntil.store(ticks(now + wait), std::memory_order_relaxed);
    } else if (judge == Judge::Yes && code == RpcError::ShuttingDown) {
        m_drainingUntil.store(ticks(now + m_settings->drainingFor), std::memory_order_relaxed);
    }
    QMutexLocker lock(&m_errorMutex);
    ++m_errorsByCode[int(code)];
    m_lastError = error->toString();
    m_lastErrorAt = QDateTime::currentDateTimeUtc();
}

void Invoker::setOverride(const InstanceOverride &o)
{
    m_overrideWeight.store(o.weight.value_or(0), std::memory_order_relaxed);
    m_disabled.store(o.disabled, std::memory_order_relaxed);
}

InvokerStats Invoker::stats() const
{
    InvokerStats s;
    s.microServiceId = m_instance.microServiceId();
    s.stage = m_instance.stage();
    s.group = m_instance.group();
    s.address = m_instance.endpoint().toString();
    s.weight = m_instance.weight();
    s.effectiveWeight = effectiveWeight();
    s.circuit = QString::fromLatin1(CircuitBreaker::stateName(m_breaker.state()));
    for (const auto &session : m_sessions)
        s.connected = s.connected || session->connected.load(std::memory_order_relaxed);
    const auto now = m_settings->now();
    if (m_disabled.load(std::memory_order_relaxed))
        s.state = QStringLiteral("disabled");
    else if (isDraining(now))
        s.state = QStringLiteral("draining");
    else if (m_breaker.state() != CircuitBreaker::State::Closed)
        s.state = s.circuit;
    else if (inBackoff(now))
        s.state = QStringLiteral("backoff");
    else
        s.state = s.connected ? QStringLiteral("ready") : QStringLiteral("connecting");
    s.calls = m_calls.load(std::memory_order_relaxed);
    s.failures = m_failures.load(std::memory_order_relaxed);
    s.inFlight = inFlight();
    const quint64 recorded = std::min<quint64>(m_latencyNext.load(std::memory_order_relaxed), LatencySlots);
    std::vector<quint32> latencies;
    latencies.reserve(recorded);
    for (quint64 i = 0; i < recorded; ++i)
        latencies.push_back(m_latencies[i].load(std::memory_order_relaxed));
    if (!latencies.empty()) {
        std::sort(latencies.begin(), latencies.end());
        auto at = [&](double q) { return qint64(latencies[std::min(latencies.size() - 1, size_t(q * double(latencies.size())))]); };
        s.p50Us = at(0.50);
        s.p90Us = at(0.90);
        s.p99Us = at(0.99);
        s.maxUs = qint64(latencies.back());
    }
    if (m_instance.startTime() > 0)
        s.startedAt = QDateTime::fromMSecsSinceEpoch(m_instance.startTime(), Qt::UTC);
    QMutexLocker lock(&m_errorMutex);
    s.errorsByCode = m_errorsByCode;
    s.lastError = m_lastError;
    s.lastErrorAt = m_lastErrorAt;
    return s;
}

} // namespace Tomato
