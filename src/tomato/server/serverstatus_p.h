// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/endpoint.h>
#include <tomato/registry/instanceinfo.h>
#include <tomato/status/statussource_p.h>

#include <QtCore/QMutex>
#include <QtCore/QReadWriteLock>
#include <memory>

namespace Tomato {

class ServerCore;

// An RpcServer as the status pages and the introspection service see it: its services and
// counters (read from its ServerCore until detach()) and its life (addresses, registration,
// readiness), which the RpcServer writes on its own thread and any thread reads. Thread-safe.
// A reader never holds the server's core: the core is destroyed where the server is.
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

    explicit ServerStatusSource(ServerCore *core);
    // The server goes: from now on this reports nothing. Returns once no reader reads.
    void detach();

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

    mutable QReadWriteLock m_coreLock; // readers share it; detach() takes it alone
    ServerCore *m_core;
    const int m_serial;
    mutable QMutex m_mutex;
    Life m_life;
};

} // namespace Tomato
