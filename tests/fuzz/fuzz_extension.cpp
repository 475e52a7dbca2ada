// SPDX-License-Identifier: Apache-2.0
// The extension decoder (wire/extension_p.h) and the request and response readers over it
// (wire/message_p.h), on arbitrary bytes. What decodes must encode back to bytes that decode
// to the same entries; any bytes escaped as a key and a value must decode to exactly them.
#include <tomato/wire/extension_p.h>
#include <tomato/wire/message_p.h>

#include <cstdint>
#include <cstdlib>

using namespace Tomato;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;

    // Escaping round-trips any bytes, ':' and '&' included.
    {
        QByteArray escaped;
        Extension::escapeTo(bytes, escaped);
        escaped += ':';
        Extension::escapeTo(bytes, escaped);
        Extension ext;
        if (!Extension::decode(escaped, &ext, &error) || ext.entries().size() != 1
            || ext.entries().at(0).first != bytes || ext.entries().at(0).second != bytes)
            std::abort();
    }

    Extension ext;
    if (!Extension::decode(bytes, &ext, &error)) {
        if (error.isEmpty())
            std::abort(); // a refusal says why
        return 0;
    }
    Extension again;
    if (!Extension::decode(ext.encode(), &again, &error) || !(again.entries() == ext.entries()))
        std::abort();
    for (const auto &entry : ext.entries()) {
        // The first entry of a key counts.
        if (!ext.contains(entry.first) || ext.view(entry.first) != ext.value(entry.first))
            std::abort();
    }

    Message::RequestHeader request;
    RpcError::Code code = RpcError::Ok;
    const bool requestRead = Message::readRequest(ext, &request, &code, &error);
    if (!requestRead && code == RpcError::Ok)
        std::abort(); // a refused request has a code to answer with
    // timeout-ms: digits only, 1 to 2^63 - 1 (docs/PROTOCOL.md section 4).
    if (!ext.view(ExtensionKey::Service).isEmpty() && !ext.view(ExtensionKey::Method).isEmpty()
        && ext.contains(ExtensionKey::TimeoutMs) && code != RpcError::UnsupportedCompression) {
        const QByteArray text = ext.value(ExtensionKey::TimeoutMs);
        bool digits = !text.isEmpty();
        for (const char c : text)
            digits = digits && c >= '0' && c <= '9';
        bool parsed = false;
        const qint64 value = text.toLongLong(&parsed);
        const bool valid = digits && parsed && value >= 1;
        if (requestRead != valid || (valid && request.timeoutMs != value))
            std::abort();
    }
    Message::ResponseHeader response;
    if (Message::readResponse(ext, &response, &error) && response.code == RpcError::Ok
        && ext.view(ExtensionKey::Code).toLongLong() != 0)
        std::abort(); // only code 0 is a success
    return 0;
}
