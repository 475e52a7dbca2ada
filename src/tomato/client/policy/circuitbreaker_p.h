// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcerror.h>

#include <QtCore/QMutex>
#include <chrono>
#include <functional>
#include <vector>

namespace Tomato {

class RpcConfig;

// The circuit breaker of one instance (docs/CLUSTER.md#circuit-breaker).
//
// Closed: every call goes through; each ending is recorded in a window of the last `window`
// outcomes. When the window holds at least `minCalls` outcomes and the failures among them
// reach `openRatePercent`, it opens. Open: allow() refuses every call for `openFor`; after it,
// the first allow() turns it HalfOpen. HalfOpen: at most `halfOpenCalls` trial calls are
// allowed (not more at once, not more in all); when that many succeed it closes (with an
// empty window), the first failing one opens it again for `openFor`.
//
// Only instance-health failures count (countsAgainstInstance()); other endings record as
// successes, since the instance answered. O(1) per call; thread-safe. Time comes from
// `now`, injected so tests never sleep.
//
// Endings of calls sent before the circuit opened may arrive while it is Open: they change
// nothing (they neither re-open it nor extend the open period, and the window stays as it
// was when it opened). In HalfOpen only as many endings count as there are trials
// outstanding; a breaker cannot tell a trial from a late call of the Closed period, so a
// late ending that arrives while a trial is outstanding counts as that trial's.
// With Settings::enabled false it is inert: allow() always says yes, it stays Closed and
// record() does nothing.
class CircuitBreaker
{
public:
    using Clock = std::chrono::steady_clock;
    enum class State { Closed, Open, HalfOpen };
    struct Settings
    {
        bool enabled = true;
        int openRatePercent = 50;
        std::chrono::milliseconds openFor{10000};
        int window = 100;
        int minCalls = 20;
        int halfOpenCalls = 3;
        // The breaker clamps what makes no sense: window, halfOpenCalls and minCalls to at
        // least 1, minCalls to at most window (else it could never open), openRatePercent
        // to 1..100, a negative openFor to 0.
        static Settings fromConfig(const RpcConfig &config);
    };

    explicit CircuitBreaker(Settings settings, std::function<Clock::time_point()> now = &Clock::now);

    // Whether a call may go to the instance now. A true answer in HalfOpen takes one of the
    // trial places: the caller must record() that call's ending (or release() it unsent).
    bool allow();
    // Whether allow() would say yes, without taking a trial place (for choosing candidates).
    bool wouldAllow() const;
    void record(bool instanceFailure);
    void release(); // a call allowed but never sent
    State state() const;
    // Failures and calls in the window now (for statistics).
    int windowFailures() const;
    int windowCalls() const;
    // When it opened last (Clock::time_point() if never).
    Clock::time_point openedAt() const;

    // Whether an error says the instance is unhealthy: ConnectFailed, Timeout,
    // ConnectionLost, Overloaded, ShuttingDown (and nothing else).
    static bool countsAgainstInstance(RpcError::Code code);
    static const char *stateName(State state); // "closed", "open", "half-open"

private:
    static Settings sanitized(Settings settings);
    void recordInWindowLocked(bool failure);
    bool openPeriodOverLocked(Clock::time_point now) const;
    void openLocked(Clock::time_point now);
    void resetWindowLocked();

    const Settings m_settings;
    const std::function<Clock::time_point()> m_now;
    mutable QMutex m_mutex;
    State m_state = State::Closed;
    std::vector<bool> m_ring; // the last `window` outcomes, true = failure
    int m_next = 0;           // where the next outcome goes
    int m_calls = 0;          // outcomes in the ring
    int m_failures = 0;       // failures in the ring
    Clock::time_point m_openedAt;
    int m_trialsAllowed = 0;  // HalfOpen: trial calls let through
    int m_trialsPassed = 0;   // HalfOpen: of those, succeeded
};

// Whether a failed attempt may be retried on another instance (docs/CLUSTER.md#failover).
// Codes where the call surely did not run (ConnectFailed, Overloaded, ShuttingDown, UnknownService,
// CircuitOpen, NoProvider is not retried: there is nowhere to go) always may; Timeout and
// ConnectionLost (the call may have run) only for idempotent methods; every other code never.
// `attempt` is the number of attempts made so far (1 after the first); `retries` the
// configured further attempts; `deadline` the call's, bounding all attempts.
struct RetryDecision
{
    static bool mayRetry(RpcError::Code code, bool idempotent, int attempt, int retries,
                         std::chrono::steady_clock::time_point deadline,
                         std::chrono::steady_clock::time_point now);
    // The class of a code for retries: Never, Always (did not run), IfIdempotent.
    enum class Class { Never, Always, IfIdempotent };
    static Class classify(RpcError::Code code);
};

} // namespace Tomato
