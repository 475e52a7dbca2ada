#include <tomato/client/channels_p.h>

#include <QtCore/QRandomGenerator>

namespace Tomato {

ConfiguredChannel::ConfiguredChannel(const RpcConfig &config)
    : m_timeout(config.timeoutMs()), m_serialization(config.serialization())
{
}

DirectChannel::DirectChannel(std::shared_ptr<ClientSession> session, const RpcConfig &config)
    : ConfiguredChannel(config), m_session(std::move(session))
{
}

QString DirectChannel::describe() const
{
    return m_session->settings.endpoint.toString();
}

void DirectChannel::send(std::unique_ptr<OutgoingCall> call)
{
    m_session->send(std::move(call));
}

ClusterChannel::ClusterChannel(std::shared_ptr<ClusterState> state, const RpcConfig &config)
    : ConfiguredChannel(config), m_state(std::move(state))
{
}

QString ClusterChannel::describe() const
{
    return QStringLiteral("%1 (%2)").arg(m_state->microServiceId, m_state->where);
}

void ClusterChannel::send(std::unique_ptr<OutgoingCall> call)
{
    std::shared_ptr<ClientSession> target;
    {
        QMutexLocker lock(&m_state->mutex);
        if (!m_state->targets.isEmpty())
            target = m_state->targets.at(QRandomGenerator::global()->bounded(int(m_state->targets.size()))).session;
    }
    if (!target) {
        const RpcError none(RpcError::NoProvider, QStringLiteral("no provider of %1 in %2 is known")
                                                      .arg(m_state->microServiceId, m_state->where));
        return finishCall(*call, describe(), &none);
    }
    target->send(std::move(call));
}

} // namespace Tomato
