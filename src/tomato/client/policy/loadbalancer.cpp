// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/policy/loadbalancer_p.h>

#include <tomato/client/policy/balancers_p.h>

namespace Tomato {

Candidate::~Candidate() = default;
LoadBalancer::~LoadBalancer() = default;

void LoadBalancer::feedback(const Candidate &, Outcome, std::chrono::microseconds) { }

std::unique_ptr<LoadBalancer> LoadBalancer::create(const QString &name)
{
    if (name == u"random")
        return std::make_unique<RandomBalancer>();
    if (name == u"round-robin")
        return std::make_unique<RoundRobinBalancer>();
    if (name == u"least-in-flight")
        return std::make_unique<LeastInFlightBalancer>();
    if (name == u"consistent-hash")
        return std::make_unique<ConsistentHashBalancer>();
    return nullptr;
}

QStringList LoadBalancer::names()
{
    return {QStringLiteral("random"), QStringLiteral("round-robin"), QStringLiteral("least-in-flight"),
            QStringLiteral("consistent-hash")};
}

} // namespace Tomato
