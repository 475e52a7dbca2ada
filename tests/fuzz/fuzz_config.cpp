// SPDX-License-Identifier: Apache-2.0
// The configuration sources (core/rpcconfig.h): a JSON file, TOMATO_RPC_* environment
// variables and --tomato-rpc.* command line arguments, loaded together as RpcConfig::load()
// does for a program. Bad input must be refused with a ConfigError, never anything else; a
// loaded configuration's values must read back through set() unchanged (set(k, value(k))
// keeps the value, as rpcconfig.h promises).
//
// Input: three parts separated by 0x1E (record separator): the file's text, environment
// lines KEY=VALUE, the arguments (one per line or NUL-separated). The file is an in-memory
// file (memfd), the environment a QProcessEnvironment: nothing touches the process's real
// environment or any file on disk (a --tomato-rpc.config or TOMATO_RPC_CONFIG in the input
// is checked but never read: the file given to load() takes precedence).
#include <tomato/core/rpcconfig.h>


#include <cstdint>
#include <cstdlib>
#include <sys/mman.h>
#include <unistd.h>

using namespace Tomato;

namespace {

QString memoryFile(const QByteArray &text)
{
    static const int fd = memfd_create("fuzz_config.json", 0);
    if (fd < 0 || ftruncate(fd, 0) != 0 || pwrite(fd, text.constData(), size_t(text.size()), 0) != text.size())
        std::abort();
    return QStringLiteral("/proc/self/fd/%1").arg(fd);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const QList<QByteArray> parts = input.split('\x1e');
    const QByteArray file = parts.value(0);

    QProcessEnvironment env;
    for (const QByteArray &line : parts.value(1).split('\n')) {
        const qsizetype equals = line.indexOf('=');
        if (equals > 0)
            env.insert(QString::fromUtf8(line.left(equals)), QString::fromUtf8(line.mid(equals + 1)));
    }
    QStringList arguments{ QStringLiteral("fuzz_config") };
    QByteArray argv = parts.value(2);
    argv.replace('\0', '\n');
    if (!argv.isEmpty()) {
        for (const QByteArray &a : argv.split('\n'))
            arguments << QString::fromUtf8(a);
    }

    RpcConfig config;
    try {
        config = RpcConfig::load(arguments, env, memoryFile(file.isEmpty() ? QByteArray("{}") : file));
    } catch (const ConfigError &e) {
        if (!QByteArray(e.what()).startsWith("tomato-rpc config: "))
            std::abort();
        return 0;
    }
    (void)config.summary();
    RpcConfig copy;
    for (const QString &key : RpcConfig::keys()) {
        const QString value = config.value(key);
        try {
            copy.set(key, value);
        } catch (const ConfigError &e) {
            fprintf(stderr, "set(%s, value()) refused its own value: %s\n", qPrintable(key), e.what());
            std::abort();
        }
        if (copy.value(key) != value) {
            fprintf(stderr, "key %s: value() '%s' reads back as '%s'\n", qPrintable(key), qPrintable(value),
                    qPrintable(copy.value(key)));
            std::abort();
        }
    }
    return 0;
}
