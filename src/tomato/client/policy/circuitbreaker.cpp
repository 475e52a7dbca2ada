// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/policy/circuitbreaker_p.h>
#include <tomato/core/rpcconfig.h>

#include <QtCore/QMutexLocker>
#include <algorithm>

namespace Tomato {

CircuitBreaker::Settings CircuitBreaker::Settings::fromConfig(const RpcConfig &config)
{
    Settings s;
    s.enabled = config.enableCircuit();
    s.openRatePercent = config.circuitOpenRate();
    s.openFor = std::chrono::seconds(config.circuitOpenSeconds());
    s.window = config.circuitWindow();
    s.minCalls = config.circuitMinCalls();
    s.halfOpenCalls = config.circuitHalfOpenCalls();
    return s;
}

CircuitBreaker::Settings CircuitBreaker::sanitized(Settings settings)
{
    // RpcConfig already refuses most of these; Settings built by hand may still hold them,
    // and a window of 0 would divide by zero.
    settings.window = std::max(settings.window, 1);
    settings.minCalls = std::clamp(settings.minCalls, 1, settings.window);
    settings.openRatePercent = std::clamp(settings.openRatePercent, 1, 100);
    settings.halfOpenCalls = std::max(settings.halfOpenCalls, 1);
    settings.openFor = std::max(settings.openFor, std::chrono::milliseconds::zero());
    return settings;
}

CircuitBreaker::CircuitBreaker(Settings settings, std::function<Clock::time_point()> now)
    : m_settings(sanitized(settings)),
      m_now(std::move(now)),
      m_ring(std::size_t(m_settings.enabled ? m_settings.window : 0), false)
{
}

bool CircuitBreaker::openPeriodOverLocked(Clock::time_point now) const
{
    // now - openedAt rather than openedAt + openFor: with circuit-open-seconds near its
    // maximum the sum could leave the clock's range, the difference cannot.
    return now - m_openedAt >= m_settings.openFor;
}

bool CircuitBreaker::allow()
{
    if (!m_settings.enabled)
        return true;
    QMutexLocker locker(&m_mutex);
    switch (m_state) {
    case State::Closed:
        return true;
    case State::Open:
        if (!openPeriodOverLocked(m_now()))
            return false;
        m_state = State::HalfOpen;
        m_trialsAllowed = 0;
        m_trialsPassed = 0;
        break;
    case State::HalfOpen:
        break;
    }
    if (m_trialsAllowed >= m_settings.halfOpenCalls)
        return false;
    ++m_trialsAllowed;
    return true;
}

bool CircuitBreaker::wouldAllow() const
{
    if (!m_settings.enabled)
        return true;
    QMutexLocker locker(&m_mutex);
    switch (m_state) {
    case State::Closed:
        return true;
    case State::Open:
        // allow() would turn it HalfOpen with every trial place free.
        return openPeriodOverLocked(m_now());
    case State::HalfOpen:
        return m_trialsAllowed < m_settings.halfOpenCalls;
    }
    return false;
}

void CircuitBreaker::record(bool instanceFailure)
{
    if (!m_settings.enabled)
        return;
    QMutexLocker locker(&m_mutex);
    switch (m_state) {
    case State::Closed:
        recordInWindowLocked(instanceFailure);
        if (m_calls >= m_settings.minCalls
            && qint64(m_failures) * 100 >= qint64(m_settings.openRatePercent) * m_calls) {
            openLocked(m_now());
        }
        return;
    case State::Open:
        // A call sent before it opened: the instance's state is already known, and letting
        // late failures re-open it would keep a recovered instance out for longer.
        return;
    case State::HalfOpen:
        if (m_trialsPassed >= m_trialsAllowed)
            return; // no trial outstanding: a late ending of the Closed period
        if (instanceFailure) {
            openLocked(m_now());
            return;
        }
        if (++m_trialsPassed >= m_settings.halfOpenCalls) {
            m_state = State::Closed;
            resetWindowLocked();
        }
        return;
    }
}

void CircuitBreaker::release()
{
    if (!m_settings.enabled)
        return;
    QMutexLocker locker(&m_mutex);
    // Only a HalfOpen breaker hands out places; in Closed there is none to give back, and a
    // trial released after its half-open period ended belonged to that period.
    if (m_state == State::HalfOpen && m_trialsAllowed > m_trialsPassed)
        --m_trialsAllowed;
}

CircuitBreaker::State CircuitBreaker::state() const
{
    QMutexLocker locker(&m_mutex);
    return m_state;
}

int CircuitBreaker::windowFailures() const
{
    QMutexLocker locker(&m_mutex);
    return m_failures;
}

int CircuitBreaker::windowCalls() const
{
    QMutexLocker locker(&m_mutex);
    return m_calls;
}

CircuitBreaker::Clock::time_point CircuitBreaker::openedAt() const
{
    QMutexLocker locker(&m_mutex);
    return m_openedAt;
}

void CircuitBreaker::recordInWindowLocked(bool failure)
{
    // A ring with running counts: the outcome written over is taken out of the counts.
    const int window = int(m_ring.size());
    if (m_calls == window) {
        if (m_ring[std::size_t(m_next)])
            --m_failures;
    } else {
        ++m_calls;
    }
    m_ring[std::size_t(m_next)] = failure;
    if (failure)
        ++m_failures;
    m_next = (m_next + 1) % window;
}

void CircuitBreaker::openLocked(Clock::time_point now)
{
    // The window is kept as it was, so statistics show what opened the circuit; it is
    // emptied when the circuit closes.
    m_state = State::Open;
    m_openedAt = now;
    m_trialsAllowed = 0;
    m_trialsPassed = 0;
}

void CircuitBreaker::resetWindowLocked()
{
    std::fill(m_ring.begin(), m_ring.end(), false);
    m_next = 0;
    m_calls = 0;
    m_failures = 0;
}

bool CircuitBreaker::countsAgainstInstance(RpcError::Code code)
{
    // Narrower than RpcError::isInstanceFailure(): Internal and DeadlineExceeded are left
    // out, since one method's bug or one caller's short deadline says nothing about the
    // instance. Everything else means the instance answered.
    switch (code) {
    case RpcError::ConnectFailed:
    case RpcError::Timeout:
    case RpcError::ConnectionLost:
    case RpcError::Overloaded:
    case RpcError::ShuttingDown:
    case RpcError::TooManyConnections:
    case RpcError::ResourceExhausted:
        return true;
    default:
        return false;
    }
}

const char *CircuitBreaker::stateName(State state)
{
    switch (state) {
    case State::Closed: return "closed";
    case State::Open: return "open";
    case State::HalfOpen: return "half-open";
    }
    return "unknown";
}

RetryDecision::Class RetryDecision::classify(RpcError::Code code)
{
    switch (code) {
    // Refused before the call was sent or run: another instance may take it.
    case RpcError::ConnectFailed:
    case RpcError::Overloaded:
    case RpcError::ShuttingDown:
    case RpcError::CircuitOpen:
    case RpcError::TooManyConnections:
    // That instance does not publish the service (a rolling upgrade); others may. It did not
    // run (RpcError::isRetryable agrees).
    case RpcError::UnknownService:
        return Class::Always;
    // The call may have run: only a method that is safe to run twice may go again.
    case RpcError::Timeout:
    case RpcError::ConnectionLost:
    case RpcError::ResourceExhausted: // the server cut the connection: calls sent before may have run
        return Class::IfIdempotent;
    default:
        return Class::Never;
    }
}

bool RetryDecision::mayRetry(RpcError::Code code, bool idempotent, int attempt, int retries,
                             std::chrono::steady_clock::time_point deadline,
                             std::chrono::steady_clock::time_point now)
{
    if (attempt > retries || now >= deadline)
        return false;
    switch (classify(code)) {
    case Class::Always: return true;
    case Class::IfIdempotent: return idempotent;
    case Class::Never: return false;
    }
    return false;
}

} // namespace Tomato
