// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/invokerstats.h>
#include <tomato/status/statussource_p.h>

#include <QtCore/QMutex>
#include <QtCore/QReadWriteLock>
#include <functional>

namespace Tomato {

// An RpcClient as the status pages and the introspection service see it: its invokers (read
// through `reader`, which holds the client weakly and answers nothing once it is gone), its
// stage and group, and its registry session, which the client writes on its own thread.
// Thread-safe.
class ClientStatusSource final : public StatusSource
{
public:
    using Reader = std::function<QList<InvokerStats>(const QString &microServiceId)>;
    ClientStatusSource(Reader reader, int serial, const QString &stage, const QString &group);

    void setRegistry(bool used, bool connected);
    // The client goes: from now on this reports nothing. Returns once no reader is inside the
    // reader, so no reader can be the last to hold the client (and destroy it on its thread).
    void detach();

    Kind kind() const override { return Kind::Client; }
    QVariantMap identity() const override;
    QVariantList invokers(const QString &microServiceId) const override;
    void writeMetrics(MetricsWriter &out) const override;

    // Tomato-RPC's invoker fields (protocol, host, port, microServiceId, stage, group), then
    // the statistics (docs/STATUS.md#invokers).
    static QVariantMap toVariant(const InvokerStats &s);

private:
    QList<InvokerStats> read(const QString &microServiceId) const;

    mutable QReadWriteLock m_readerLock; // readers share it; detach() takes it alone
    Reader m_reader;
    const int m_serial;
    const QString m_stage;
    const QString m_group;
    mutable QMutex m_mutex;
    bool m_usesRegistry = false;
    bool m_registryConnected = false;
};

} // namespace Tomato
