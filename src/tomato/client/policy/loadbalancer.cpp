#include <tomato/client/policy/loadbalancer_p.h>

namespace Tomato {

Candidate::~Candidate() = default;
LoadBalancer::~LoadBalancer() = default;

void LoadBalancer::feedback(const Candidate &, Outcome, std::chrono::microseconds) { }

// PLACEHOLDER: the policies are being written.
std::unique_ptr<LoadBalancer> LoadBalancer::create(const QString &)
{
    return nullptr;
}

QStringList LoadBalancer::names()
{
    return {};
}

} // namespace Tomato
