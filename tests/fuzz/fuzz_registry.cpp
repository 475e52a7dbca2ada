// SPDX-License-Identifier: Apache-2.0
// What a registry reads from other nodes (registry/): instance and consumer node names and
// URIs (InstanceInfo, ConsumerInfo), override node data (InstanceOverride::fromJson), and the
// addresses in them (Endpoint::fromString). What parses must read back from its own text as
// the same value: fromUri(toUri()), fromNodeName(nodeName()), fromJson(toJson()),
// Endpoint::fromString(toString()) (the canonical text, endpoint.h).
//
// Input: byte 0 picks the parser, the rest is the node name, URI, node data or address.
#include <tomato/core/endpoint.h>
#include <tomato/registry/consumerinfo.h>
#include <tomato/registry/instanceinfo.h>
#include <tomato/registry/registry.h>

#include <cstdint>
#include <cstdlib>

using namespace Tomato;

namespace {

[[noreturn]] void fail(const char *what, const QString &text)
{
    fprintf(stderr, "%s: %s\n", what, qPrintable(text));
    std::abort();
}

template <typename Info>
void roundTrip(const Info &info)
{
    const auto fromUri = Info::fromUri(info.toUri());
    if (!fromUri || *fromUri != info)
        fail("fromUri(toUri()) differs", info.toUri());
    const auto fromNodeName = Info::fromNodeName(info.nodeName());
    if (!fromNodeName || *fromNodeName != info)
        fail("fromNodeName(nodeName()) differs", info.nodeName());
    (void)info.toJson();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArray bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const QString text = QString::fromUtf8(bytes);
    switch (data[0] % 6) {
    case 0:
        if (const auto info = InstanceInfo::fromNodeName(text))
            roundTrip(*info);
        break;
    case 1:
        if (const auto info = InstanceInfo::fromUri(text)) {
            roundTrip(*info);
            (void)info->endpoint().toString();
        }
        break;
    case 2:
        if (const auto info = ConsumerInfo::fromNodeName(text))
            roundTrip(*info);
        break;
    case 3:
        if (const auto info = ConsumerInfo::fromUri(text))
            roundTrip(*info);
        break;
    case 4: {
        QString error;
        if (const auto value = InstanceOverride::fromJson(bytes, &error)) {
            const auto again = InstanceOverride::fromJson(value->toJson(), &error);
            if (!again || *again != *value)
                fail("fromJson(toJson()) differs", QString::fromUtf8(value->toJson()));
        } else if (error.isEmpty()) {
            std::abort(); // a refusal says why
        }
        break;
    }
    default: {
        QString error;
        const Endpoint endpoint = Endpoint::fromString(text, QStringLiteral("tcp"), &error);
        if (endpoint.isValid() && Endpoint::fromString(endpoint.toString()) != endpoint)
            fail("Endpoint::fromString(toString()) differs", endpoint.toString());
        if (!endpoint.isValid() && error.isEmpty())
            std::abort();
        break;
    }
    }
    return 0;
}
