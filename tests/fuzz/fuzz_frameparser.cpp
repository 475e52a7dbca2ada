// SPDX-License-Identifier: Apache-2.0
// The frame parser (wire/frameparser_p.h) on a byte stream cut into reads at points the input
// chooses, then what a connection does with each frame: its extension decoded, read as a
// request or a response, its body decompressed when the extension says so.
//
// Input: byte 0 picks max-frame-bytes (small limits reach TooLarge and skipping), bytes 1-2
// seed the cutting, the rest is the stream. The same stream parsed in one read must give the
// same outcomes and the same frames: how reads are cut never changes what is parsed.
#include <tomato/wire/extension_p.h>
#include <tomato/wire/frameparser_p.h>
#include <tomato/wire/message_p.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace Tomato;

namespace {

struct Outcome
{
    FrameParser::Result result;
    quint32 version;
    quint16 command;
    quint8 serialization;
    quint64 messageId;
    QByteArray extension;
    QByteArray body;
    RpcError::Code errorCode;

    bool operator==(const Outcome &o) const
    {
        return result == o.result && version == o.version && command == o.command
            && serialization == o.serialization && messageId == o.messageId
            && extension == o.extension && body == o.body && errorCode == o.errorCode;
    }
};

// What a server or client does with a parsed frame, short of calling anything.
void useFrame(const Frame &frame)
{
    Extension ext;
    QString error;
    if (!Extension::decode(frame.extension, &ext, &error))
        return;
    // Every entry decoded must encode back to something that decodes to the same entries.
    Extension again;
    if (!Extension::decode(ext.encode(), &again, &error) || !(again.entries() == ext.entries()))
        std::abort();
    Compression::Kind compression = Compression::Kind::None;
    if (frame.command == Frame::Request) {
        Message::RequestHeader header;
        RpcError::Code code = RpcError::Ok;
        if (!Message::readRequest(ext, &header, &code, &error))
            return;
        compression = header.compression;
    } else {
        Message::ResponseHeader header;
        if (!Message::readResponse(ext, &header, &error))
            return;
        compression = header.compression;
    }
    if (compression != Compression::Kind::None) {
        QByteArray body = frame.body;
        Message::decompressBody(compression, body, 1 << 20, &error);
    }
}

// Drains the parser: every outcome up to NeedMore (or the first Corrupt).
bool drain(FrameParser &parser, std::vector<Outcome> &out)
{
    for (;;) {
        const FrameParser::Result r = parser.next();
        if (r == FrameParser::NeedMore)
            return true;
        const Frame &f = parser.frame();
        if (r == FrameParser::Corrupt) {
            out.push_back({r, 0, 0, 0, 0, {}, {}, parser.errorCode()});
            return false;
        }
        out.push_back({r, f.version, f.command, f.serialization, f.messageId, f.extension, f.body,
                       r == FrameParser::TooLarge ? parser.errorCode() : RpcError::Ok});
        if (r == FrameParser::Frame)
            useFrame(f);
        if (out.size() > 100000)
            std::abort(); // no progress: a frame is at least 24 bytes
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    // Limits from below the header size (every frame too large) up to the default 16 MiB.
    static const qint64 limits[] = {0, 24, 25, 30, 40, 64, 100, 128, 256, 1024, 4096, 16 << 20};
    const qint64 maxFrameBytes = limits[data[0] % std::size(limits)];
    quint32 seed = (quint32(data[1]) << 8 | data[2]) * 2654435761u + 1;
    const QByteArrayView stream(reinterpret_cast<const char *>(data) + 3, qsizetype(size - 3));

    // The reference: the whole stream in one read.
    std::vector<Outcome> whole;
    {
        FrameParser parser(maxFrameBytes);
        parser.append(stream);
        drain(parser, whole);
    }

    // The same cut into reads, through each of the parser's ways of taking bytes.
    std::vector<Outcome> cut;
    FrameParser parser(maxFrameBytes);
    qsizetype pos = 0;
    bool open = true;
    while (pos < stream.size() && open) {
        seed = seed * 1103515245u + 12345u;
        const quint32 r = seed >> 8;
        const qsizetype n = qMin<qsizetype>(stream.size() - pos, 1 + qsizetype(r % ((r & 0x100) ? 64 : 7)));
        const QByteArrayView piece = stream.sliced(pos, n);
        switch ((r >> 12) % 3) {
        case 0:
            parser.append(piece);
            break;
        case 1:
            parser.append(piece.toByteArray());
            break;
        default: {
            // A read that brings fewer bytes than the room asked for.
            char *room = parser.appendSpace(n + qsizetype(r % 5));
            std::memcpy(room, piece.data(), size_t(n));
            parser.commitAppend(n);
            break;
        }
        }
        pos += n;
        if (parser.startedFrameBytes() < 0 || parser.bufferedBytes() < 0)
            std::abort();
        open = drain(parser, cut);
    }
    if (parser.totalAppended() != quint64(pos))
        std::abort();
    // Both stop at the same Corrupt, if any.
    if (whole.size() != cut.size())
        std::abort();
    for (size_t i = 0; i < whole.size(); ++i) {
        if (!(whole[i] == cut[i]))
            std::abort();
    }
    // Corrupt stays corrupt.
    if (!open && (parser.next() != FrameParser::Corrupt || parser.feed("\xac") != FrameParser::Corrupt))
        std::abort();
    return 0;
}
