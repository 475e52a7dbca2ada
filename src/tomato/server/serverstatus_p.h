#pragma once
#include <tomato/core/endpoint.h>
#include <tomato/registry/instanceinfo.h>
#include <tomato/status/statussource_p.h>

#include <QtCore/QMutex>
#include <memory>

namespace Tomato {

class ServerCore;

// An RpcServer as the status pages and the introspection service see it: its services and
// counters (read from the shared ServerCore, weakly: a request may outlive the server by a
// moment) and its life (addresses, registration, readiness), which the RpcServer writes on
// its own thread and any thread reads. Thread-safe.
class ServerStatusSource final : public StatusSource
{
public:
    // What the RpcServer says about itself; replaced as a whole.
    struct Life
    {
        QList<Endpoint> addresses;
        InstanceInfo instance;     // as announced (valid after start)
        qint64 startedAt = 0;      // ms since the epoch
        bool running = false;
        bool stopping = false;
        bool usesRegistry = false; // a registry and a micro-service id: readiness waits for it
        bool registered = false;
        bool registryConnected = false;
    };

    explicit ServerStatusSource(const std::shared_ptr<ServerCore> &core);

    Life life() const;
    template<typename F>
    void update(F &&change)
    {
        QMutexLocker lock(&m_mutex);
        change(m_life);
    }

    Kind kind() const override { return Kind::Server; }
    QVariantMap identity() const override;
    QVariantList services() const override;
    QVariantMap statistics() const override;
    Readiness readiness() const override;
    void writeMetrics(MetricsWriter &out) const override;

private:
    void writeCallMetrics(MetricsWriter &out, const ServerCore &core) const;

    const std::weak_ptr<ServerCore> m_core;
    mutable QMutex m_mutex;
    Life m_life;
};

} // namespace Tomato
