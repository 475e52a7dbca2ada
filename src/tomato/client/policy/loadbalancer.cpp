#include <tomato/client/policy/loadbalancer_p.h>

#include <QtCore/QRandomGenerator>

namespace Tomato {

LoadBalancer::~LoadBalancer() = default;

std::unique_ptr<LoadBalancer> LoadBalancer::create(const QString &name)
{
    if (name == QLatin1String("random"))
        return std::make_unique<RandomLoadBalancer>();
    return nullptr;
}

QStringList LoadBalancer::names()
{
    return {QStringLiteral("random")};
}

qsizetype RandomLoadBalancer::select(const QList<Target> &targets)
{
    return qsizetype(QRandomGenerator::global()->bounded(quint32(targets.size())));
}

} // namespace Tomato
