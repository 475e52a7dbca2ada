// SPDX-License-Identifier: Apache-2.0
#pragma once
// The reference workloads (same numbers as ../shared/bench/anchors/common/bench.h) and the
// result line every benchmark client prints.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace workloads {

using Clock = std::chrono::steady_clock;

constexpr int kSmallBytes = 16;
constexpr int kLatWarmup = 2000, kLatCalls = 20000;
constexpr int kTputConns = 4, kTputDepth = 16;
constexpr auto kTputWarmup = std::chrono::seconds(1);
constexpr auto kTputMeasure = std::chrono::seconds(5);
constexpr int kBigBytes = 1 << 20;
constexpr int kBigWarmup = 5, kBigCalls = 300;
constexpr int kIdleConns = 1000;
constexpr auto kIdleHold = std::chrono::seconds(1);

inline std::string makePayload(size_t n)
{
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i)
        s[i] = char('a' + i % 26);
    return s;
}

// Latencies of the measured calls, and the result line.
class Recorder
{
public:
    Recorder() { m_latNs.reserve(1 << 20); }
    void begin() { m_t0 = Clock::now(); }
    void end() { m_t1 = Clock::now(); }
    void add(Clock::duration d)
    {
        m_latNs.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    }
    void merge(const Recorder &other)
    {
        m_latNs.insert(m_latNs.end(), other.m_latNs.begin(), other.m_latNs.end());
    }
    size_t count() const { return m_latNs.size(); }
    void print(double bytesPerCall)
    {
        const double secs = std::chrono::duration<double>(m_t1 - m_t0).count();
        const double n = double(m_latNs.size());
        std::printf("qps=%lld p50_us=%lld p99_us=%lld ", std::llround(n / secs), pct(0.50), pct(0.99));
        if (bytesPerCall > 0)
            std::printf("mbps=%.1f\n", n * bytesPerCall / secs / 1e6);
        else
            std::printf("mbps=0\n");
        std::fflush(stdout);
    }

private:
    long long pct(double p)
    {
        if (m_latNs.empty())
            return 0;
        auto it = m_latNs.begin() + std::ptrdiff_t(p * double(m_latNs.size() - 1));
        std::nth_element(m_latNs.begin(), it, m_latNs.end());
        return std::llround(double(*it) / 1000.0);
    }
    std::vector<int64_t> m_latNs;
    Clock::time_point m_t0, m_t1;
};

inline void printConns(Clock::duration setup, int opened)
{
    std::printf("info: conns=%d setup_ms=%lld\n", opened,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(setup).count()));
    std::printf("qps=0 p50_us=0 p99_us=0 mbps=0\n");
    std::fflush(stdout);
}

} // namespace workloads
