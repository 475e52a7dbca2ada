// SPDX-License-Identifier: Apache-2.0
#include "clusterworkload.h"

#include "benchservice.h"
#include "benchservice_stub.h"
#include "workloads.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QEventLoop>
#include <QtCore/QMutex>
#include <QtCore/QTimer>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>

#include <sys/resource.h>

namespace cluster {

using std::chrono::nanoseconds;

namespace {

const QString kService = QStringLiteral("tomato-bench");

// CLOCK_MONOTONIC, which the signal handler may read too (clock_gettime is
// async-signal-safe).
nanoseconds monotonicNow()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::seconds(ts.tv_sec) + nanoseconds(ts.tv_nsec);
}

// When SIGUSR1 said "a provider was killed now"; 0 until then.
std::atomic<long long> killedAtNs{0};
static_assert(std::atomic<long long>::is_always_lock_free);

void onKilled(int)
{
    long long expected = 0;
    killedAtNs.compare_exchange_strong(expected, monotonicNow().count()); // the first one counts
}

long long ms(nanoseconds d)
{
    return std::llround(double(d.count()) / 1e6);
}

double secondsOf(nanoseconds d)
{
    return double(d.count()) / 1e9;
}

// A finished successful call: when it ended (after the start) and how long it took, in µs.
struct CallRecord
{
    std::uint32_t endUs;
    std::uint32_t latencyUs;
};

// CPU time (user + system) of this process so far.
nanoseconds cpuTime()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return std::chrono::seconds(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
        + std::chrono::microseconds(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

long long percentile(std::vector<std::uint32_t> &v, double p)
{
    if (v.empty())
        return 0;
    auto it = v.begin() + std::ptrdiff_t(p * double(v.size() - 1));
    std::nth_element(v.begin(), it, v.end());
    return *it;
}

} // namespace

Tomato::RpcConfig clientDefaults(const QString &zooKeeperHosts)
{
    Tomato::RpcConfig c;
    c.setNameServiceUri(zooKeeperHosts);
    c.setCluster(QStringLiteral("failover")); // echo is idempotent (Q_CLASSINFO): retried on ConnectionLost too
    c.setRetries(2);
    c.setClientKeepAliveMs(200);
    c.setConnectTimeoutMs(500);
    c.setReconnectBackoffMinMs(50);
    c.setReconnectBackoffMaxMs(1000);
    c.setWarmupSeconds(0); // the servers have just started: no ramp-up, all three at full weight
    // One client I/O thread: each lane issues its next call from the continuation of the last,
    // and Qt 6.4.2's QFuture::then() races with a future finished on another thread at the
    // same moment (it can run the continuation twice and crash; docs/STUBS.md). With one I/O
    // thread every completion, and so every then(), is on that thread.
    c.setIoThreads(1);
    return c;
}

double completedAt(const std::vector<Sample> &samples, nanoseconds t)
{
    if (samples.empty())
        return 0;
    if (t <= samples.front().t)
        return double(samples.front().completed);
    if (t >= samples.back().t)
        return double(samples.back().completed);
    const auto after = std::upper_bound(samples.begin(), samples.end(), t,
                                        [](nanoseconds value, const Sample &s) { return value < s.t; });
    const Sample &b = *after;
    const Sample &a = *(after - 1);
    const double share = double((t - a.t).count()) / double((b.t - a.t).count());
    return double(a.completed) + share * (double(b.completed) - double(a.completed));
}

std::vector<Interval> intervalsOf(const std::vector<Sample> &samples)
{
    std::vector<Interval> out;
    for (size_t i = 1; i < samples.size(); ++i) {
        const Sample &a = samples[i - 1];
        const Sample &b = samples[i];
        if (b.t > a.t)
            out.push_back({a.t, b.t, double(b.completed - a.completed) / secondsOf(b.t - a.t)});
    }
    return out;
}

Figures analyse(const std::vector<Sample> &samples, nanoseconds kill, nanoseconds end)
{
    Figures f;
    const auto rate = [&](nanoseconds from, nanoseconds to) {
        return to > from ? (completedAt(samples, to) - completedAt(samples, from)) / secondsOf(to - from) : 0.0;
    };
    const nanoseconds warm = std::min<nanoseconds>(kWarmup, kill);
    f.qpsBefore = rate(warm, kill);
    f.qpsDuring = rate(kill, std::min<nanoseconds>(kill + kDuring, end));
    f.qpsAfter = rate(std::max<nanoseconds>(kill, end - kSteady), end);

    const std::vector<Interval> all = intervalsOf(samples);
    std::vector<Interval> after; // from the one the kill fell in
    for (const Interval &i : all) {
        if (i.end > kill && i.start < end) {
            after.push_back(i);
        } else if (i.start >= warm && i.end <= kill) {
            ++f.intervalsBefore;
            f.dipIntervalsBefore += i.qps < kDipShare * f.qpsBefore;
            f.slowIntervalsBefore += i.qps < kRecoveredShare * f.qpsBefore;
        }
    }
    f.minQps = after.empty() ? 0 : after.front().qps;
    for (const Interval &i : after) {
        f.minQps = std::min(f.minQps, i.qps);
        if (i.qps < kDipShare * f.qpsBefore) {
            ++f.dipIntervals;
            // Time spent below half the throughput: a lone slow interval seconds later (the
            // box's noise) adds 100 ms, not everything up to it.
            f.dip += i.end - std::max(i.start, kill);
        }
    }

    const double threshold = kRecoveredShare * std::min(f.qpsBefore, f.qpsAfter);
    f.recovery = end - kill;
    for (size_t i = 0; i + kRecoveredIntervals <= after.size(); ++i) {
        bool recovered = true;
        for (size_t k = i; k < i + size_t(kRecoveredIntervals); ++k)
            recovered = recovered && after[k].qps >= threshold;
        if (recovered) {
            f.recovered = true;
            f.recovery = std::max<nanoseconds>(nanoseconds(0), after[i].start - kill);
            break;
        }
    }
    return f;
}

bool makeRegistry(const Tomato::RpcConfig &config, std::unique_ptr<Tomato::Registry> *out)
{
    try {
        Tomato::RegistryFactory registries;
        Tomato::ZooKeeperRegistry::registerScheme(registries);
        *out = registries.create(config);
        return true;
    } catch (const Tomato::RpcError &e) {
        std::fprintf(stderr, "tomato-bench: %s (see --help)\n", qPrintable(e.message()));
        return false;
    }
}

int run(const Tomato::RpcConfig &config)
{
    // SIGUSR1: the driver killed a provider just now. Installed before RUNNING, so that the
    // signal never finds the default action (which would end the process).
    struct sigaction action = {};
    action.sa_handler = onKilled;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &action, nullptr);

    std::unique_ptr<Tomato::Registry> registry;
    if (!makeRegistry(config, &registry))
        return 2;
    Tomato::RpcClient client(config);
    client.setRegistry(registry.get());

    // Instances as the registry lists them, after the start (main thread only).
    std::vector<std::pair<nanoseconds, int>> listed;
    nanoseconds start{0};
    QObject::connect(&client, &Tomato::RpcClient::instancesChanged, &client,
                     [&](const QString &service, const QStringList &addresses) {
                         if (service == kService && start.count() > 0)
                             listed.emplace_back(monotonicNow() - start, int(addresses.size()));
                     });

    const QString payload = QString::fromStdString(workloads::makePayload(workloads::kSmallBytes));
    struct Lane
    {
        std::unique_ptr<Bench::EchoServiceStub> stub;
        std::function<void()> issue;
    };
    std::vector<Lane> lanes(kStubs);
    std::atomic<bool> stopping{false};
    std::atomic<int> inFlight{0};
    std::atomic<std::uint64_t> completed{0};
    std::atomic<std::uint64_t> failed{0};
    std::vector<CallRecord> records(size_t(1) << 22); // 32 MB, touched now rather than during the run
    std::atomic<size_t> recorded{0};
    QMutex errorsMutex;
    std::vector<std::pair<nanoseconds, QString>> firstErrors; // the first few failures
    // Lives on this thread: a lane whose call failed issues its next one from here, 10 ms
    // later, so that a client without providers (calls failing at once, on the caller's
    // stack) neither spins nor recurses. Declared after the lanes: destroyed first.
    QObject anchor;

    for (Lane &lane : lanes) {
        lane.stub = client.stub<Bench::EchoService>();
        lane.issue = [&] {
            inFlight.fetch_add(1);
            const nanoseconds t = monotonicNow();
            lane.stub->echoAsync(payload).then(QtFuture::Launch::Sync, [&, t](QFuture<QString> finished) {
                const nanoseconds now = monotonicNow();
                bool ok = false;
                QString error;
                try {
                    ok = finished.result().size() == payload.size();
                    if (!ok)
                        error = QStringLiteral("bad echo");
                } catch (const Tomato::RpcError &e) {
                    error = e.toString();
                }
                if (ok) {
                    completed.fetch_add(1, std::memory_order_relaxed);
                    const size_t at = recorded.fetch_add(1, std::memory_order_relaxed);
                    if (at < records.size())
                        records[at] = {std::uint32_t((now - start).count() / 1000),
                                       std::uint32_t(std::min<long long>((now - t).count() / 1000, UINT32_MAX))};
                    if (!stopping.load(std::memory_order_relaxed))
                        lane.issue();
                } else {
                    if (failed.fetch_add(1) < 5) {
                        QMutexLocker lock(&errorsMutex);
                        firstErrors.emplace_back(now, error);
                    }
                    QMetaObject::invokeMethod(
                        &anchor,
                        [&] {
                            QTimer::singleShot(std::chrono::milliseconds(10), &anchor, [&] {
                                if (!stopping.load())
                                    lane.issue();
                            });
                        },
                        Qt::QueuedConnection);
                }
                inFlight.fetch_sub(1);
            });
        };
    }

    // Wait (at most 30 s) until the registry lists every provider.
    {
        QEventLoop wait;
        QTimer::singleShot(std::chrono::seconds(30), &wait, &QEventLoop::quit);
        QObject::connect(&client, &Tomato::RpcClient::instancesChanged, &wait,
                         [&](const QString &service, const QStringList &addresses) {
                             if (service == kService && addresses.size() >= kInstances)
                                 wait.quit();
                         });
        if (client.instances(kService).size() < kInstances)
            wait.exec();
    }
    const QStringList instances = client.instances(kService);
    if (instances.size() < kInstances) {
        std::fprintf(stderr, "tomato-bench: the registry lists %d instance(s) of %s after 30 s; W5 needs %d\n",
                     int(instances.size()), qPrintable(kService), kInstances);
        return 1;
    }

    const nanoseconds cpuAtStart = cpuTime();
    start = monotonicNow();
    std::vector<Sample> samples{{nanoseconds(0), 0}};
    std::printf("info: RUNNING instances=%s\n", qPrintable(instances.join(QLatin1Char(','))));
    std::fflush(stdout);
    for (Lane &lane : lanes) {
        for (int k = 0; k < kDepth; ++k)
            lane.issue();
    }

    QEventLoop loop;
    QTimer ticker;
    ticker.setTimerType(Qt::PreciseTimer);
    ticker.setInterval(kInterval);
    bool noKill = false;
    QObject::connect(&ticker, &QTimer::timeout, &loop, [&] {
        const nanoseconds now = monotonicNow();
        samples.push_back({now - start, completed.load(std::memory_order_relaxed)});
        const nanoseconds killed(killedAtNs.load());
        if (killed.count() == 0 && now - start > kWaitForKill) {
            noKill = true;
            loop.quit();
        } else if (killed.count() != 0 && now >= killed + kAfterKill) {
            loop.quit();
        }
    });
    ticker.start();
    loop.exec();
    ticker.stop();
    const nanoseconds cpuUsed = cpuTime() - cpuAtStart;
    const nanoseconds end = samples.back().t;
    stopping.store(true);
    {
        // Let the calls in flight end (bounded by their deadline: timeout-ms).
        QEventLoop drain;
        QTimer poll;
        QObject::connect(&poll, &QTimer::timeout, &drain, [&] {
            if (inFlight.load() == 0)
                drain.quit();
        });
        QTimer::singleShot(std::chrono::seconds(15), &drain, &QEventLoop::quit);
        poll.start(10);
        drain.exec();
    }
    if (noKill) {
        std::fprintf(stderr, "tomato-bench: no SIGUSR1 (\"a provider was killed\") within %lld s of RUNNING\n",
                     static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(kWaitForKill).count()));
        return 1;
    }
    if (inFlight.load() != 0)
        std::printf("info: %d calls still in flight 15 s after the end\n", inFlight.load());
    const nanoseconds kill = std::clamp(nanoseconds(killedAtNs.load()) - start, nanoseconds(0), end);

    const Figures f = analyse(samples, kill, end);
    for (const Interval &i : intervalsOf(samples))
        std::printf("info: interval t_ms=%lld qps=%lld\n", ms(i.start - kill), std::llround(i.qps));
    for (const auto &[t, count] : listed)
        std::printf("info: registry lists %d instance(s) at t_ms=%lld\n", count, ms(t - kill));
    for (const Tomato::InvokerStats &s : client.invokers(kService)) {
        QStringList errors;
        for (auto it = s.errorsByCode.cbegin(); it != s.errorsByCode.cend(); ++it)
            errors << Tomato::RpcError::codeName(Tomato::RpcError::Code(it.key())) + QLatin1Char(':')
                    + QString::number(it.value());
        std::printf("info: instance %s state=%s calls=%llu failures=%llu errors=%s p99_us=%lld last_error=\"%s\"\n",
                    qPrintable(s.address), qPrintable(s.state), static_cast<unsigned long long>(s.calls),
                    static_cast<unsigned long long>(s.failures),
                    errors.isEmpty() ? "-" : qPrintable(errors.join(QLatin1Char(','))), static_cast<long long>(s.p99Us),
                    qPrintable(s.lastError));
    }
    {
        QMutexLocker lock(&errorsMutex);
        for (const auto &[t, error] : firstErrors)
            std::printf("info: failed call at t_ms=%lld: %s\n", ms(t - start - kill), qPrintable(error));
    }

    // Latencies of the successful calls: the whole measured time, the second after the
    // kill, the steady state after it.
    const size_t n = std::min(recorded.load(), records.size());
    const auto us = [](nanoseconds d) { return std::uint32_t(std::max<long long>(0, d.count() / 1000)); };
    const nanoseconds warm = std::min<nanoseconds>(kWarmup, kill);
    std::vector<std::uint32_t> all, before, during, after;
    for (size_t i = 0; i < n; ++i) {
        const CallRecord &r = records[i];
        if (r.endUs < us(warm) || r.endUs > us(end))
            continue;
        all.push_back(r.latencyUs);
        if (r.endUs < us(kill))
            before.push_back(r.latencyUs);
        else if (r.endUs < us(kill + kDuring))
            during.push_back(r.latencyUs);
        if (r.endUs >= us(std::max(kill, end - kSteady)))
            after.push_back(r.latencyUs);
    }
    const double measuredQps = (completedAt(samples, end) - completedAt(samples, warm)) / secondsOf(end - warm);
    std::printf("info: p99_us before=%lld during=%lld after=%lld max_us_during=%lld\n", percentile(before, 0.99),
                percentile(during, 0.99), percentile(after, 0.99), percentile(during, 1.0));
    std::printf("info: calls=%llu failed=%llu client_cpu_us_call=%.2f kill_at_ms=%lld min_interval_qps=%lld "
                "dip_intervals=%d recovery_ms=%lld%s noise_before=%d/%d/%d%s\n",
                static_cast<unsigned long long>(completed.load()), static_cast<unsigned long long>(failed.load()),
                completed.load() > 0 ? double(cpuUsed.count()) / 1e3 / double(completed.load()) : 0.0,
                ms(kill), std::llround(f.minQps), f.dipIntervals, ms(f.recovery), f.recovered ? "" : " (not recovered)",
                f.dipIntervalsBefore, f.slowIntervalsBefore, f.intervalsBefore,
                recorded.load() > records.size() ? " (latencies: the first 4M calls only)" : "");
    std::printf("qps=%lld p50_us=%lld p99_us=%lld mbps=0 qps_before=%lld qps_during=%lld qps_after=%lld failed=%llu "
                "dip_ms=%lld\n",
                std::llround(measuredQps), percentile(all, 0.50), percentile(all, 0.99), std::llround(f.qpsBefore),
                std::llround(f.qpsDuring), std::llround(f.qpsAfter), static_cast<unsigned long long>(failed.load()),
                ms(f.dip));
    std::fflush(stdout);
    return 0;
}

} // namespace cluster
