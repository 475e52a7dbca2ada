// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/transport_p.h>

#include <tomato/core/rpcconfig.h>
#include <tomato/transport/tcptransport_p.h>
#include <tomato/transport/tlstransport_p.h>
#include <tomato/transport/unixtransport_p.h>

namespace Tomato {

Listener::Listener(AcceptHandler onAccept, QObject *parent)
    : QObject(parent), m_onAccept(std::move(onAccept))
{
}

Listener::~Listener() = default;

Transport::~Transport() = default;

std::shared_ptr<const Transports> Transports::standard(const RpcConfig &config)
{
    auto table = std::make_shared<Transports>();
    table->add(std::make_shared<TcpTransport>());
    table->add(std::make_shared<TlsTransport>(config));
    table->add(std::make_shared<UnixTransport>(config.unixSocketAccess()));
    return table;
}

void Transports::add(std::shared_ptr<const Transport> transport)
{
    const QString scheme = transport->scheme();
    m_transports.insert(scheme, std::move(transport));
}

const Transport *Transports::find(QStringView scheme) const
{
    const auto it = m_transports.constFind(scheme.toString());
    return it == m_transports.cend() ? nullptr : it->get();
}

QStringList Transports::schemes() const
{
    QStringList names = m_transports.keys();
    names.sort();
    return names;
}

const Transport *Transports::forEndpoint(const Endpoint &address, QString *error) const
{
    if (const Transport *t = find(address.scheme()))
        return t;
    *error = QStringLiteral("no transport for '%1' (known: %2)")
                 .arg(address.toString(), schemes().join(QLatin1String(", ")));
    return nullptr;
}

} // namespace Tomato
