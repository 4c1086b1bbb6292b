# chatd image: the `chatd` CLI on Debian (the Temporal core bridge needs glibc).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm install --no-save typescript@5.9 && npx tsc -p tsconfig.build.json && npm uninstall --no-save typescript
ENV CHATD_HTTP_HOST=0.0.0.0 NODE_ENV=production
ENTRYPOINT ["node", "bin/chatd.js"]
