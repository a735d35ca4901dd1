# The full node in a container. Deno comes from npm, like everywhere else in this project.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV DATABASE_PATH=/data/event-router.db \
    PORT=8080
VOLUME ["/data"]
EXPOSE 8080
# SIGTERM reaches the node directly (no npm in between), so shutdown drains cleanly.
CMD ["./tools/deno", "run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "--allow-ffi", "main.ts", "serve"]
