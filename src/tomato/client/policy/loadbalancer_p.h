#pragma once
#include <tomato/registry/instanceinfo.h>

#include <QtCore/QList>
#include <QtCore/QStringList>
#include <memory>

namespace Tomato {

class ClientSession;

// One instance a cluster channel may send a call to.
struct Target
{
    InstanceInfo instance;
    std::shared_ptr<ClientSession> session;
};

// Chooses the instance of each call among a service's targets. One object per cluster
// channel state; select() is called from any caller's thread at once, so implementations are
// thread-safe. Policies are found by name (create()); a new one is a subclass here and a line
// in create(). The cluster issue's policies (weighted, least-active, consistent hash) and the
// feedback they need (how each call ended) join here.
class LoadBalancer
{
public:
    virtual ~LoadBalancer();
    virtual QString name() const = 0;
    // Index of the chosen target in `targets` (never empty).
    virtual qsizetype select(const QList<Target> &targets) = 0;

    // The policy called `name`, or null. names(): those known.
    static std::unique_ptr<LoadBalancer> create(const QString &name);
    static QStringList names();
};

// Every target equally likely.
class RandomLoadBalancer final : public LoadBalancer
{
public:
    QString name() const override { return QStringLiteral("random"); }
    qsizetype select(const QList<Target> &targets) override;
};

} // namespace Tomato
