// SPDX-License-Identifier: Apache-2.0
#pragma once
// W5 "cluster" (docs/PERFORMANCE.md#w5-cluster): a cluster client keeps 64 calls in flight
// over the instances a ZooKeeper registry lists; one provider is SIGKILLed midway and the
// client is told so by SIGUSR1. tools/bench/w5-cluster.sh drives it.
#include <tomato/core/rpcconfig.h>
#include <tomato/registry/registry.h>

#include <QtCore/QString>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace cluster {

constexpr int kInstances = 3;                           // waits until the registry lists them
constexpr int kStubs = 4, kDepth = 16;                  // 64 calls in flight
constexpr auto kInterval = std::chrono::milliseconds(100); // throughput sampling period
constexpr auto kWarmup = std::chrono::seconds(1);       // after RUNNING, left out of every figure
constexpr auto kAfterKill = std::chrono::seconds(5);    // the run ends this long after the kill
constexpr auto kDuring = std::chrono::seconds(1);       // qps_during: the first second after the kill
constexpr auto kSteady = std::chrono::seconds(2);       // qps_after: the last two seconds
constexpr auto kWaitForKill = std::chrono::seconds(60); // no SIGUSR1 by then: the run fails
constexpr double kDipShare = 0.5;                       // of qps_before: an interval in the dip
constexpr double kRecoveredShare = 0.9;                 // of the lower steady state: a recovered interval
constexpr int kRecoveredIntervals = 3;                  // in a row: recovered

// The client's settings for W5, before the environment and --tomato-rpc.* arguments apply
// (docs/PERFORMANCE.md lists them and why).
Tomato::RpcConfig clientDefaults(const QString &zooKeeperHosts);

// Successful calls so far, `t` after the start (the RUNNING line).
struct Sample
{
    std::chrono::nanoseconds t;
    std::uint64_t completed;
};

struct Interval
{
    std::chrono::nanoseconds start, end; // after the start
    double qps;
};

// The figures of one run, from the samples alone (times after the start). "Intervals after
// the kill" include the one the kill fell in.
struct Figures
{
    double qpsBefore = 0;  // from the end of the warm-up to the kill
    double qpsDuring = 0;  // the first kDuring after the kill
    double qpsAfter = 0;   // the last kSteady of the run: the two-provider steady state
    double minQps = 0;     // the slowest interval after the kill
    // Time after the kill spent in intervals that ran below kDipShare x qpsBefore; 0 when
    // none did.
    std::chrono::nanoseconds dip{0};
    int dipIntervals = 0;  // intervals after the kill below kDipShare x qpsBefore
    // From the kill to the start of the first interval after it that begins
    // kRecoveredIntervals in a row at >= kRecoveredShare x min(qpsBefore, qpsAfter) (0 when
    // the kill's own interval does); to the end of the run with recovered = false when none does.
    std::chrono::nanoseconds recovery{0};
    bool recovered = false;
    // Noise: intervals between warm-up and kill, and how many of them ran below kDipShare
    // and below kRecoveredShare x qpsBefore although nothing had happened yet.
    int intervalsBefore = 0;
    int dipIntervalsBefore = 0;
    int slowIntervalsBefore = 0;
};

// Calls completed between two moments, by linear interpolation between the samples.
double completedAt(const std::vector<Sample> &samples, std::chrono::nanoseconds t);
std::vector<Interval> intervalsOf(const std::vector<Sample> &samples);
Figures analyse(const std::vector<Sample> &samples, std::chrono::nanoseconds kill, std::chrono::nanoseconds end);

// The registry `config` names (none without name-service-uri) into *out; false, with one
// line on stderr, when name-service-uri is malformed.
bool makeRegistry(const Tomato::RpcConfig &config, std::unique_ptr<Tomato::Registry> *out);

// Runs W5 with `config` (name-service-uri set): prints RUNNING, the per-interval
// throughput and the result line. 0 on success, 1 when the run could not be made.
int run(const Tomato::RpcConfig &config);

} // namespace cluster
