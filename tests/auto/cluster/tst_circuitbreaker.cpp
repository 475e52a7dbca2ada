// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/policy/circuitbreaker_p.h>
#include <tomato/core/rpcconfig.h>

#include <QtCore/QThread>
#include <QtTest/QTest>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <vector>

using Tomato::CircuitBreaker;
using Tomato::RetryDecision;
using Tomato::RpcConfig;
using Tomato::RpcError;
using State = CircuitBreaker::State;
using Clock = CircuitBreaker::Clock;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(Tomato::RpcError::Code)
Q_DECLARE_METATYPE(Tomato::RetryDecision::Class)

namespace Tomato {
// Found by QCOMPARE through argument-dependent lookup, so a failure names the states.
char *toString(CircuitBreaker::State state)
{
    return qstrdup(CircuitBreaker::stateName(state));
}
} // namespace Tomato

namespace {

// The time a breaker sees: owned by the test and moved by hand, so nothing sleeps. It starts
// an hour after the clock's epoch so that "opened now" differs from "never opened".
struct ManualClock
{
    Clock::time_point now = Clock::time_point(1h);
    std::function<Clock::time_point()> source()
    {
        return [this] { return now; };
    }
};

CircuitBreaker::Settings settings(int window, int minCalls, int openRatePercent,
                                  std::chrono::milliseconds openFor = 10s, int halfOpenCalls = 3)
{
    CircuitBreaker::Settings s;
    s.window = window;
    s.minCalls = minCalls;
    s.openRatePercent = openRatePercent;
    s.openFor = openFor;
    s.halfOpenCalls = halfOpenCalls;
    return s;
}

void recordMany(CircuitBreaker &breaker, int count, bool instanceFailure)
{
    for (int i = 0; i < count; ++i)
        breaker.record(instanceFailure);
}

// Every RpcError code, with what the breaker and the retry rules must make of it. The
// table itself is checked against RpcError::isKnownCode(), so a new code fails the test
// until someone decides about it here.
struct CodeRow
{
    RpcError::Code code;
    const char *name;
    bool countsAgainstInstance;
    RetryDecision::Class retry;
};

constexpr auto Never = RetryDecision::Class::Never;
constexpr auto Always = RetryDecision::Class::Always;
constexpr auto IfIdempotent = RetryDecision::Class::IfIdempotent;

const CodeRow codeTable[] = {
    {RpcError::Ok, "Ok", false, Never},
    {RpcError::Timeout, "Timeout", true, IfIdempotent},
    {RpcError::CircuitOpen, "CircuitOpen", false, Always},
    {RpcError::NoProvider, "NoProvider", false, Never},
    {RpcError::ConnectFailed, "ConnectFailed", true, Always},
    {RpcError::Cancelled, "Cancelled", false, Never},
    {RpcError::ConnectionLost, "ConnectionLost", true, IfIdempotent},
    {RpcError::ProtocolViolation, "ProtocolViolation", false, Never},
    {RpcError::RequestTooLarge, "RequestTooLarge", false, Never},
    {RpcError::ClientClosed, "ClientClosed", false, Never},
    {RpcError::UnknownService, "UnknownService", false, Always},
    {RpcError::UnknownMethod, "UnknownMethod", false, Never},
    {RpcError::BadArguments, "BadArguments", false, Never},
    {RpcError::Overloaded, "Overloaded", true, Always},
    {RpcError::ShuttingDown, "ShuttingDown", true, Always},
    {RpcError::ApplicationException, "ApplicationException", false, Never},
    {RpcError::Internal, "Internal", false, Never},
    {RpcError::DeadlineExceeded, "DeadlineExceeded", false, Never},
    {RpcError::FrameTooLarge, "FrameTooLarge", false, Never},
    {RpcError::MalformedFrame, "MalformedFrame", false, Never},
    {RpcError::UnsupportedVersion, "UnsupportedVersion", false, Never},
    {RpcError::UnsupportedSerialization, "UnsupportedSerialization", false, Never},
    {RpcError::UnsupportedCompression, "UnsupportedCompression", false, Never},
    {RpcError::BadRequest, "BadRequest", false, Never},
    {RpcError::PermissionDenied, "PermissionDenied", false, Never},
    {RpcError::TooManyConnections, "TooManyConnections", true, Always},
    {RpcError::ResourceExhausted, "ResourceExhausted", true, IfIdempotent},
};

} // namespace

// The circuit breaker of one instance and the retry rules of the cluster client
// (docs/CLUSTER.md). Every breaker reads a ManualClock the test moves; nothing sleeps.
class tst_CircuitBreaker : public QObject
{
    Q_OBJECT

private slots:
    void settingsComeFromTheConfig();
    void theDefaultsOpenAfterTwentyConsecutiveFailuresNotNineteen();

    void staysClosedBelowMinCallsEvenWhenEveryCallFails();
    void opensExactlyWhenTheFailureRateReachesTheThreshold_data();
    void opensExactlyWhenTheFailureRateReachesTheThreshold();
    void oldOutcomesAgeOutOfTheWindow();

    void refusesWhileOpenUntilTheOpenPeriodHasPassed();
    void endingsArrivingWhileOpenNeitherReopenNorExtendIt();
    void halfOpenLetsExactlyTheTrialCallsThroughAndNoMore();
    void halfOpenAllowsNoMoreTrialsWhenAskedFromManyThreads();
    void allTrialsSucceedingClosesWithAnEmptyWindow();
    void oneFailingTrialReopensForAFreshOpenPeriod();
    void endingsWithNoTrialOutstandingDoNotDecideTheHalfOpenState();
    void releaseGivesATrialPlaceBack();
    void releaseGivesBackOnlyPlacesThatWereTaken();
    void wouldAllowTakesNoTrialPlace();
    void aDisabledBreakerNeverOpens();
    void senselessSettingsAreClamped();

    void stateNamesAreTheDocumentedOnes();
    void theCodeTableListsEveryErrorCode();
    void onlyInstanceHealthErrorsCountAgainstTheInstance_data();
    void onlyInstanceHealthErrorsCountAgainstTheInstance();
    void codesAreClassifiedByWhetherTheCallMayHaveRun_data();
    void codesAreClassifiedByWhetherTheCallMayHaveRun();
    void retryDependsOnCodeIdempotenceAttemptAndDeadline_data();
    void retryDependsOnCodeIdempotenceAttemptAndDeadline();
    void noRetriesConfiguredMeansNoRetry();

    void countsStayConsistentUnderConcurrentUse();
};

void tst_CircuitBreaker::settingsComeFromTheConfig()
{
    const auto defaults = CircuitBreaker::Settings::fromConfig(RpcConfig());
    QCOMPARE(defaults.enabled, true);
    QCOMPARE(defaults.openRatePercent, 50);
    QCOMPARE(defaults.openFor, std::chrono::milliseconds(10s));
    QCOMPARE(defaults.window, 100);
    QCOMPARE(defaults.minCalls, 20);
    QCOMPARE(defaults.halfOpenCalls, 3);

    RpcConfig config;
    config.setEnableCircuit(false);
    config.setCircuitOpenRate(30);
    config.setCircuitOpenSeconds(7);
    config.setCircuitWindow(40);
    config.setCircuitMinCalls(11);
    config.setCircuitHalfOpenCalls(5);
    const auto s = CircuitBreaker::Settings::fromConfig(config);
    QCOMPARE(s.enabled, false);
    QCOMPARE(s.openRatePercent, 30);
    QCOMPARE(s.openFor, std::chrono::milliseconds(7s));
    QCOMPARE(s.window, 40);
    QCOMPARE(s.minCalls, 11);
    QCOMPARE(s.halfOpenCalls, 5);
}

void tst_CircuitBreaker::theDefaultsOpenAfterTwentyConsecutiveFailuresNotNineteen()
{
    ManualClock clock;
    CircuitBreaker breaker(CircuitBreaker::Settings::fromConfig(RpcConfig()), clock.source());
    recordMany(breaker, 19, true);
    QCOMPARE(breaker.state(), State::Closed);
    QVERIFY(breaker.allow());
    breaker.record(true);
    QCOMPARE(breaker.state(), State::Open);
    QCOMPARE(breaker.openedAt(), clock.now);
    QVERIFY(!breaker.allow());

    // 10 s later: three trials, no fourth.
    clock.now += 10s;
    QVERIFY(breaker.allow());
    QCOMPARE(breaker.state(), State::HalfOpen);
    QVERIFY(breaker.allow());
    QVERIFY(breaker.allow());
    QVERIFY(!breaker.allow());
}

void tst_CircuitBreaker::staysClosedBelowMinCallsEvenWhenEveryCallFails()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(/*window=*/100, /*minCalls=*/20, /*rate=*/50), clock.source());
    for (int i = 1; i < 20; ++i) {
        breaker.record(true);
        QCOMPARE(breaker.state(), State::Closed);
        QVERIFY(breaker.allow());
        QCOMPARE(breaker.windowFailures(), i);
        QCOMPARE(breaker.windowCalls(), i);
    }
    QCOMPARE(breaker.openedAt(), Clock::time_point());
}

void tst_CircuitBreaker::opensExactlyWhenTheFailureRateReachesTheThreshold_data()
{
    // outcomes: F = instance failure, S = anything else; opensAt: the 1-based outcome after
    // which the circuit is open, 0 for never.
    QTest::addColumn<int>("window");
    QTest::addColumn<int>("minCalls");
    QTest::addColumn<int>("rate");
    QTest::addColumn<QByteArray>("outcomes");
    QTest::addColumn<int>("opensAt");

    QTest::newRow("5 of 10 failing, failures first") << 10 << 10 << 50 << QByteArray("FFFFFSSSSS") << 10;
    QTest::newRow("5 of 10 failing, failures last") << 10 << 10 << 50 << QByteArray("SSSSSFFFFF") << 10;
    QTest::newRow("4 of 10 failing") << 10 << 10 << 50 << QByteArray("FFFFSSSSSS") << 0;
    QTest::newRow("4 of 10 failing, interleaved") << 10 << 10 << 50 << QByteArray("SFSFSFSFSS") << 0;
    QTest::newRow("2 of 5 at 30%, window not full yet") << 10 << 5 << 30 << QByteArray("SSSFF") << 5;
    QTest::newRow("1 of 4 at 30%") << 10 << 4 << 30 << QByteArray("SSSF") << 0;
    QTest::newRow("one failure among min calls at 1%") << 100 << 20 << 1
        << QByteArray("SSSSSSSSSSSSSSSSSSSF") << 20;
    QTest::newRow("100% needs a window of failures") << 4 << 4 << 100 << QByteArray("FFFSFFFF") << 8;
    QTest::newRow("reached by a success bringing calls to min") << 10 << 6 << 50
        << QByteArray("FFFSSS") << 6;
}

void tst_CircuitBreaker::opensExactlyWhenTheFailureRateReachesTheThreshold()
{
    QFETCH(int, window);
    QFETCH(int, minCalls);
    QFETCH(int, rate);
    QFETCH(QByteArray, outcomes);
    QFETCH(int, opensAt);

    ManualClock clock;
    CircuitBreaker breaker(settings(window, minCalls, rate), clock.source());
    for (int i = 0; i < outcomes.size(); ++i) {
        clock.now += 1ms;
        breaker.record(outcomes.at(i) == 'F');
        const bool shouldBeOpen = opensAt != 0 && i + 1 >= opensAt;
        QCOMPARE(breaker.state(), shouldBeOpen ? State::Open : State::Closed);
        if (opensAt != 0 && i + 1 == opensAt)
            QCOMPARE(breaker.openedAt(), clock.now);
    }
}

void tst_CircuitBreaker::oldOutcomesAgeOutOfTheWindow()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(/*window=*/10, /*minCalls=*/10, /*rate=*/50), clock.source());
    recordMany(breaker, 4, true);
    recordMany(breaker, 6, false);
    QCOMPARE(breaker.windowCalls(), 10);
    QCOMPARE(breaker.windowFailures(), 4);

    // Four successes push the four old failures out.
    recordMany(breaker, 4, false);
    QCOMPARE(breaker.windowCalls(), 10);
    QCOMPARE(breaker.windowFailures(), 0);

    // So four new failures are 4 of 10, not 8 of 10.
    recordMany(breaker, 4, true);
    QCOMPARE(breaker.windowFailures(), 4);
    QCOMPARE(breaker.state(), State::Closed);

    breaker.record(true);
    QCOMPARE(breaker.windowFailures(), 5);
    QCOMPARE(breaker.state(), State::Open);
}

void tst_CircuitBreaker::refusesWhileOpenUntilTheOpenPeriodHasPassed()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, /*openFor=*/10s), clock.source());
    recordMany(breaker, 10, true);
    QCOMPARE(breaker.state(), State::Open);
    const auto openedAt = clock.now;
    QCOMPARE(breaker.openedAt(), openedAt);
    QVERIFY(!breaker.allow());

    clock.now = openedAt + 10s - 1ms;
    QVERIFY(!breaker.wouldAllow());
    QVERIFY(!breaker.allow());
    QCOMPARE(breaker.state(), State::Open);

    clock.now = openedAt + 10s;
    QVERIFY(breaker.allow());
    QCOMPARE(breaker.state(), State::HalfOpen);
    QCOMPARE(breaker.openedAt(), openedAt);
}

void tst_CircuitBreaker::endingsArrivingWhileOpenNeitherReopenNorExtendIt()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, /*openFor=*/10s), clock.source());
    recordMany(breaker, 10, true);
    const auto openedAt = clock.now;

    // Calls sent before it opened end later, some failing, some not.
    clock.now += 5s;
    recordMany(breaker, 50, true);
    recordMany(breaker, 50, false);
    QCOMPARE(breaker.state(), State::Open);
    QCOMPARE(breaker.openedAt(), openedAt);
    QCOMPARE(breaker.windowCalls(), 10);
    QCOMPARE(breaker.windowFailures(), 10);

    clock.now = openedAt + 10s;
    QVERIFY(breaker.allow());
    QCOMPARE(breaker.state(), State::HalfOpen);
}

void tst_CircuitBreaker::halfOpenLetsExactlyTheTrialCallsThroughAndNoMore()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, 10s, /*halfOpenCalls=*/3), clock.source());
    recordMany(breaker, 10, true);
    clock.now += 10s;

    // Three trials in flight at once, none ended yet.
    QVERIFY(breaker.allow());
    QVERIFY(breaker.allow());
    QVERIFY(breaker.allow());
    QVERIFY(!breaker.allow());
    QVERIFY(!breaker.wouldAllow());

    // A trial that succeeds does not free a place: three in all, not three at once.
    breaker.record(false);
    QCOMPARE(breaker.state(), State::HalfOpen);
    QVERIFY(!breaker.allow());
    breaker.record(false);
    QVERIFY(!breaker.allow());
    QCOMPARE(breaker.state(), State::HalfOpen);
}

void tst_CircuitBreaker::halfOpenAllowsNoMoreTrialsWhenAskedFromManyThreads()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, 10s, /*halfOpenCalls=*/3), clock.source());
    recordMany(breaker, 10, true);
    clock.now += 10s; // written before the threads start, only read by them

    std::atomic<int> allowed{0};
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back(QThread::create([&] {
            for (int i = 0; i < 1000; ++i) {
                if (breaker.allow())
                    allowed.fetch_add(1);
            }
        }));
    }
    for (auto &thread : threads)
        thread->start();
    for (auto &thread : threads)
        QVERIFY(thread->wait());

    QCOMPARE(allowed.load(), 3);
    QCOMPARE(breaker.state(), State::HalfOpen);
}

void tst_CircuitBreaker::allTrialsSucceedingClosesWithAnEmptyWindow()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, 10s, 3), clock.source());
    recordMany(breaker, 10, true);
    clock.now += 10s;

    for (int i = 0; i < 3; ++i)
        QVERIFY(breaker.allow());
    breaker.record(false);
    breaker.record(false);
    QCOMPARE(breaker.state(), State::HalfOpen);
    breaker.record(false);
    QCOMPARE(breaker.state(), State::Closed);
    QCOMPARE(breaker.windowCalls(), 0);
    QCOMPARE(breaker.windowFailures(), 0);
    QVERIFY(breaker.allow());

    // The failures that opened it are forgotten: nine new ones do not re-open it.
    recordMany(breaker, 9, true);
    QCOMPARE(breaker.state(), State::Closed);
    breaker.record(true);
    QCOMPARE(breaker.state(), State::Open);
}

void tst_CircuitBreaker::oneFailingTrialReopensForAFreshOpenPeriod()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, 10s, 3), clock.source());
    recordMany(breaker, 10, true);
    clock.now += 10s;
    QVERIFY(breaker.allow());
    QVERIFY(breaker.allow());
    breaker.record(false);

    clock.now += 3s;
    const auto reopenedAt = clock.now;
    breaker.record(true);
    QCOMPARE(breaker.state(), State::Open);
    QCOMPARE(breaker.openedAt(), reopenedAt);

    clock.now = reopenedAt + 10s - 1ms;
    QVERIFY(!breaker.allow());
    clock.now = reopenedAt + 10s;
    QVERIFY(breaker.allow());
    QCOMPARE(breaker.state(), State::HalfOpen);
    // A fresh half-open period: all three places are free again.
    QVERIFY(breaker.allow());
    QVERIFY(breaker.allow());
    QVERIFY(!breaker.allow());
}

void tst_CircuitBreaker::endingsWithNoTrialOutstandingDoNotDecideTheHalfOpenState()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, 10s, 3), clock.source());
    recordMany(breaker, 10, true);
    clock.now += 10s;
    QVERIFY(breaker.allow());
    breaker.record(false); // the only trial so far, succeeded

    // Late endings of calls sent while it was still closed: no trial is outstanding.
    recordMany(breaker, 5, false);
    QCOMPARE(breaker.state(), State::HalfOpen);
    breaker.record(true);
    QCOMPARE(breaker.state(), State::HalfOpen);

    QVERIFY(breaker.allow());
    QVERIFY(breaker.allow());
    QVERIFY(!breaker.allow());
    breaker.record(false);
    breaker.record(false);
    QCOMPARE(breaker.state(), State::Closed);
}

void tst_CircuitBreaker::releaseGivesATrialPlaceBack()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, 10s, 3), clock.source());
    recordMany(breaker, 10, true);
    clock.now += 10s;
    for (int i = 0; i < 3; ++i)
        QVERIFY(breaker.allow());
    QVERIFY(!breaker.allow());

    breaker.release(); // one of them was never sent
    QVERIFY(breaker.wouldAllow());
    QVERIFY(breaker.allow());
    QVERIFY(!breaker.allow());

    recordMany(breaker, 3, false);
    QCOMPARE(breaker.state(), State::Closed);
}

void tst_CircuitBreaker::releaseGivesBackOnlyPlacesThatWereTaken()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, 10s, 3), clock.source());
    breaker.release(); // closed: there is no place to give back, nothing changes
    QCOMPARE(breaker.state(), State::Closed);
    QCOMPARE(breaker.windowCalls(), 0);

    recordMany(breaker, 10, true);
    clock.now += 10s;
    QVERIFY(breaker.allow());
    breaker.record(false);
    breaker.release(); // nothing outstanding: the finished trial keeps its place
    breaker.release();
    QVERIFY(breaker.allow());
    QVERIFY(breaker.allow());
    QVERIFY(!breaker.allow());
}

void tst_CircuitBreaker::wouldAllowTakesNoTrialPlace()
{
    ManualClock clock;
    CircuitBreaker breaker(settings(10, 10, 50, 10s, 3), clock.source());
    QVERIFY(breaker.wouldAllow());
    recordMany(breaker, 10, true);
    QVERIFY(!breaker.wouldAllow());

    clock.now += 10s;
    for (int i = 0; i < 10; ++i)
        QVERIFY(breaker.wouldAllow());
    QCOMPARE(breaker.state(), State::Open); // only allow() moves it to half-open
    for (int i = 0; i < 3; ++i) {
        QVERIFY(breaker.allow());
        QCOMPARE(breaker.wouldAllow(), i < 2);
    }
    QVERIFY(!breaker.allow());
}

void tst_CircuitBreaker::aDisabledBreakerNeverOpens()
{
    ManualClock clock;
    auto s = settings(10, 1, 1);
    s.enabled = false;
    CircuitBreaker breaker(s, clock.source());
    for (int i = 0; i < 1000; ++i) {
        QVERIFY(breaker.allow());
        breaker.record(true);
    }
    breaker.release();
    QCOMPARE(breaker.state(), State::Closed);
    QVERIFY(breaker.wouldAllow());
    QCOMPARE(breaker.windowCalls(), 0);
    QCOMPARE(breaker.windowFailures(), 0);
    QCOMPARE(breaker.openedAt(), Clock::time_point());
}

void tst_CircuitBreaker::senselessSettingsAreClamped()
{
    ManualClock clock;
    // minCalls above the window would never let it open: it is clamped to the window.
    CircuitBreaker wide(settings(/*window=*/5, /*minCalls=*/50, /*rate=*/50), clock.source());
    recordMany(wide, 4, true);
    QCOMPARE(wide.state(), State::Closed);
    wide.record(true);
    QCOMPARE(wide.state(), State::Open);

    // A window and trial count of 0 act as 1; a rate of 0 as 1%, so successes alone never open.
    CircuitBreaker zero(settings(/*window=*/0, /*minCalls=*/0, /*rate=*/0, 0ms, 0), clock.source());
    recordMany(zero, 10, false);
    QCOMPARE(zero.state(), State::Closed);
    QCOMPARE(zero.windowCalls(), 1);
    zero.record(true);
    QCOMPARE(zero.state(), State::Open);
    QVERIFY(zero.allow());
    QVERIFY(!zero.allow());
}

void tst_CircuitBreaker::stateNamesAreTheDocumentedOnes()
{
    QCOMPARE(CircuitBreaker::stateName(State::Closed), "closed");
    QCOMPARE(CircuitBreaker::stateName(State::Open), "open");
    QCOMPARE(CircuitBreaker::stateName(State::HalfOpen), "half-open");
}

void tst_CircuitBreaker::theCodeTableListsEveryErrorCode()
{
    std::set<int> listed;
    for (const CodeRow &row : codeTable) {
        QVERIFY2(RpcError::isKnownCode(row.code), row.name);
        QVERIFY2(listed.insert(row.code).second, row.name);
        QCOMPARE(RpcError::codeName(row.code), QString::fromLatin1(row.name));
    }
    for (int code = 0; code <= 0xFFFF; ++code) {
        if (RpcError::isKnownCode(quint16(code)))
            QVERIFY2(listed.count(code) == 1, qPrintable(QStringLiteral("code %1 is not in the table").arg(code)));
    }
}

void tst_CircuitBreaker::onlyInstanceHealthErrorsCountAgainstTheInstance_data()
{
    QTest::addColumn<RpcError::Code>("code");
    QTest::addColumn<bool>("counts");
    for (const CodeRow &row : codeTable)
        QTest::newRow(row.name) << row.code << row.countsAgainstInstance;
}

void tst_CircuitBreaker::onlyInstanceHealthErrorsCountAgainstTheInstance()
{
    QFETCH(RpcError::Code, code);
    QFETCH(bool, counts);
    QCOMPARE(CircuitBreaker::countsAgainstInstance(code), counts);
}

void tst_CircuitBreaker::codesAreClassifiedByWhetherTheCallMayHaveRun_data()
{
    QTest::addColumn<RpcError::Code>("code");
    QTest::addColumn<RetryDecision::Class>("expected");
    for (const CodeRow &row : codeTable)
        QTest::newRow(row.name) << row.code << row.retry;
}

void tst_CircuitBreaker::codesAreClassifiedByWhetherTheCallMayHaveRun()
{
    QFETCH(RpcError::Code, code);
    QFETCH(RetryDecision::Class, expected);
    QCOMPARE(RetryDecision::classify(code), expected);
}

void tst_CircuitBreaker::retryDependsOnCodeIdempotenceAttemptAndDeadline_data()
{
    // Every code x idempotent x attempt 1..3 (retries = 2) x deadline. The expected answer
    // follows the rules in docs/CLUSTER.md: attempt 3 has used up two retries; a deadline
    // that is now or past allows nothing; otherwise the code's class decides.
    QTest::addColumn<RpcError::Code>("code");
    QTest::addColumn<bool>("idempotent");
    QTest::addColumn<int>("attempt");
    QTest::addColumn<int>("msLeft");
    QTest::addColumn<bool>("expected");

    const int deadlines[] = {1, 0, -1}; // ms from now to the deadline
    for (const CodeRow &row : codeTable) {
        for (bool idempotent : {false, true}) {
            for (int attempt = 1; attempt <= 3; ++attempt) {
                for (int msLeft : deadlines) {
                    const bool byClass = row.retry == Always || (row.retry == IfIdempotent && idempotent);
                    const bool expected = byClass && attempt <= 2 && msLeft > 0;
                    QTest::addRow("%s %s attempt %d, deadline %s", row.name,
                                  idempotent ? "idempotent" : "not idempotent", attempt,
                                  msLeft > 0 ? "ahead" : msLeft == 0 ? "now" : "passed")
                        << row.code << idempotent << attempt << msLeft << expected;
                }
            }
        }
    }
}

void tst_CircuitBreaker::retryDependsOnCodeIdempotenceAttemptAndDeadline()
{
    QFETCH(RpcError::Code, code);
    QFETCH(bool, idempotent);
    QFETCH(int, attempt);
    QFETCH(int, msLeft);
    QFETCH(bool, expected);
    const auto now = Clock::time_point(1h);
    QCOMPARE(RetryDecision::mayRetry(code, idempotent, attempt, /*retries=*/2,
                                     now + std::chrono::milliseconds(msLeft), now),
             expected);
}

void tst_CircuitBreaker::noRetriesConfiguredMeansNoRetry()
{
    const auto now = Clock::time_point(1h);
    QVERIFY(!RetryDecision::mayRetry(RpcError::ConnectFailed, true, 1, /*retries=*/0, now + 1h, now));
    QVERIFY(RetryDecision::mayRetry(RpcError::ConnectFailed, true, 1, /*retries=*/1, now + 1h, now));
    QVERIFY(!RetryDecision::mayRetry(RpcError::ConnectFailed, true, 2, /*retries=*/1, now + 1h, now));
}

void tst_CircuitBreaker::countsStayConsistentUnderConcurrentUse()
{
    // Four threads allow, record and release against one breaker whose clock they move, so
    // it goes round Closed -> Open -> HalfOpen -> ... many times under contention.
    constexpr int window = 50;
    std::atomic<Clock::rep> ticks{Clock::time_point(1h).time_since_epoch().count()};
    CircuitBreaker breaker(settings(window, 10, 50, /*openFor=*/5ms, /*halfOpenCalls=*/3),
                           [&ticks] { return Clock::time_point(Clock::duration(ticks.load())); });

    std::atomic<int> inconsistencies{0};
    std::atomic<int> refusals{0};
    std::atomic<int> opens{0};
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back(QThread::create([&, t] {
            Clock::time_point lastOpened;
            for (int i = 0; i < 100000; ++i) {
                if (breaker.allow()) {
                    if (i % 7 == 0)
                        breaker.release();
                    else
                        breaker.record((i + t) % 3 != 0); // two thirds fail
                } else {
                    refusals.fetch_add(1, std::memory_order_relaxed);
                }
                const int calls = breaker.windowCalls();
                const int failures = breaker.windowFailures();
                if (calls < 0 || calls > window || failures < 0 || failures > window)
                    inconsistencies.fetch_add(1, std::memory_order_relaxed);
                const auto openedAt = breaker.openedAt();
                if (openedAt != lastOpened) {
                    lastOpened = openedAt;
                    opens.fetch_add(1, std::memory_order_relaxed);
                }
                if (i % 16 == 0)
                    ticks.fetch_add(std::chrono::nanoseconds(1ms).count());
            }
        }));
    }
    for (auto &thread : threads)
        thread->start();
    for (auto &thread : threads)
        QVERIFY(thread->wait());

    QCOMPARE(inconsistencies.load(), 0);
    QVERIFY(breaker.windowCalls() <= window);
    QVERIFY(breaker.windowFailures() <= breaker.windowCalls());
    QVERIFY2(refusals.load() > 0, "the breaker never refused: the test did not open it");
    QVERIFY2(opens.load() > 4, "the breaker did not go round its states");
}

QTEST_MAIN(tst_CircuitBreaker)
#include "tst_circuitbreaker.moc"
